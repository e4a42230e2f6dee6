/**
 * Source sites: where in the user's source an operation happened.
 *
 * Capturing a V8 stack costs about a microsecond, far more than recording an event, so it is done
 * only where it pays (ProbeConfig.stacks): by default for blocking calls (acquire, wait, receive,
 * join) and constructions, which is where a deadlock, an inversion or an abandoned lock is
 * reported; releases and notifies are attributed through the guard or resource instead. A stack is
 * captured as structured CallSite objects (no string formatting), frames inside the probe are
 * skipped, and each distinct location is interned once: the site registry message carries the
 * file, line and column, resolved through the source map to the TypeScript source, and events
 * carry only the site id.
 */
import { findSourceMap, SourceMap } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rt, newId, shared, warnOnce } from './runtime.js';
import type { SiteMessage } from './protocol.js';
import { libraryMatcher, packageLibrary, type LibraryMatch } from './library.js';

interface SiteRec {
  msg: SiteMessage;
  sentIn: number;
}

interface SiteState {
  /**
   * Sites by the file and the character position V8 reports for a frame: cheaper to look up
   * than a `file:line:column` string, whose line and column V8 computes from the position.
   */
  byPosition: Map<string, Map<number, SiteRec>>;
  byId: Map<number, SiteRec>;
  maps: Map<string, SourceMap | null>;
  probeDirs: Set<string>;
  /** Sites with callers attached, keyed by their frames' ids. */
  stacks: Map<string, number>;
  /** Whether each frame file seen is the probe's own. */
  probeFiles: Map<string, boolean>;
  /** Set when a site is first seen; see `takeFreshSites`. */
  fresh: boolean;
  /** Set once frames of an observed lock package are skipped: their calls nest deeply. */
  foreignFrames: boolean;
  /** Library code (library.ts): the package.json's globs, configure()'s, and answers per file. */
  library: {
    /** False when the package.json marks none; undefined until it has been read. */
    fromPackage: LibraryMatch | false | undefined;
    fromConfig: LibraryMatch | undefined;
    files: Map<string, boolean>;
  };
}

const state = shared<SiteState>('sites', () => ({
  byPosition: new Map(),
  byId: new Map(),
  maps: new Map(),
  probeDirs: new Set(),
  stacks: new Map(),
  probeFiles: new Map(),
  fresh: false,
  foreignFrames: false,
  library: { fromPackage: undefined, fromConfig: undefined, files: new Map() },
}));

/** Frames captured beyond the kept depth when library frames may have to be skipped. */
const LIBRARY_FRAMES = 32;

/** Marks the files `globs` match (relative to `base`) as library code, replacing earlier ones. */
export function setLibrary(globs: readonly string[], base: string): void {
  state.library.fromConfig = globs.length > 0 ? libraryMatcher(globs, base) : undefined;
  state.library.files.clear();
}

/** Reads the program's package.json once per thread, when the first site is captured. */
function packageMatch(): LibraryMatch | false {
  const lib = state.library;
  if (lib.fromPackage === undefined) {
    const main = process.argv[1];
    const found = packageLibrary(main ? dirname(resolvePath(main)) : process.cwd());
    if (found && 'problem' in found) warnOnce(found.problem, `${found.problem}; it is ignored`);
    lib.fromPackage = found && 'globs' in found ? libraryMatcher(found.globs, found.base) : false;
  }
  return lib.fromPackage;
}

/** Whether any library code is marked (so that frames are captured deeper, to skip it). */
function hasLibrary(): boolean {
  return packageMatch() !== false || state.library.fromConfig !== undefined;
}

/** Whether a frame's file is library code; cached per file. */
function isLibraryFrame(file: string): boolean {
  const lib = state.library;
  let known = lib.files.get(file);
  if (known === undefined) {
    const path = toPath(file);
    const fromPackage = packageMatch();
    known = (fromPackage && fromPackage(path)) || (lib.fromConfig?.(path) ?? false);
    lib.files.set(file, known);
  }
  return known;
}

function toPath(file: string): string {
  return file.startsWith('file://') ? fileURLToPath(file) : file;
}

/**
 * Captures the current stack as structured CallSites, without formatting it. `skip` and the
 * frames above it are left out by V8.
 */
function callSites(limit: number, skip: (...args: never[]) => unknown): NodeJS.CallSite[] {
  const holder: { stack?: unknown } = {};
  // eslint-disable-next-line @typescript-eslint/unbound-method -- saved only to be restored.
  const prevPrepare = Error.prepareStackTrace;
  const prevLimit = Error.stackTraceLimit;
  Error.prepareStackTrace = (_e, frames) => frames;
  Error.stackTraceLimit = limit;
  try {
    Error.captureStackTrace(holder, skip);
    return holder.stack as NodeJS.CallSite[];
  } finally {
    Error.prepareStackTrace = prevPrepare;
    Error.stackTraceLimit = prevLimit;
  }
}

/**
 * Whether the innermost frame of the program (below the probe's and Node's own) is a module's top
 * level: its code is at the start of the script, and it has no function name.
 */
export function atModuleTopLevel(skip: (...args: never[]) => unknown): boolean {
  for (const frame of callSites(16, skip)) {
    const file = frame.getFileName();
    if (!file || isProbeFrame(file)) continue;
    return (
      frame.getFunctionName() === null &&
      frame.getEnclosingLineNumber() === 1 &&
      frame.getEnclosingColumnNumber() === 1
    );
  }
  return false;
}

/** The folder of this build of the probe: frames from it are the probe's own, not the user's. */
function ownDir(): string | undefined {
  const file = callSites(1, callSites)[0]?.getFileName();
  return file ? dirname(toPath(file)) : undefined;
}

const own = ownDir();
if (own) state.probeDirs.add(own);

/**
 * Skips the frames of files under `dir` as the probe's own: a lock package an adapter observes
 * (adapters/), so that a site is the program's line that called the package.
 */
export function skipFramesUnder(dir: string): void {
  const folder = dir.endsWith(sep) ? dir : dir + sep;
  if (state.probeDirs.has(folder)) return;
  state.probeDirs.add(folder);
  state.probeFiles.clear();
  // A call through async-mutex's withTimeout is a dozen frames of the package deep.
  state.foreignFrames = true;
}

/** Whether a frame's file belongs to the probe or to Node; cached, as it is asked per frame. */
function isProbeFrame(file: string): boolean {
  let known = state.probeFiles.get(file);
  if (known === undefined) {
    const path = file.startsWith('node:') ? undefined : toPath(file);
    known = path === undefined || [...state.probeDirs].some((dir) => path.startsWith(dir));
    state.probeFiles.set(file, known);
  }
  return known;
}

function loadMap(file: string): SourceMap | null {
  const cached = state.maps.get(file);
  if (cached !== undefined) return cached;
  let map: SourceMap | null = null;
  try {
    map = findSourceMap(file) ?? findSourceMap(toPath(file)) ?? null;
    if (!map) map = readMapComment(toPath(file));
  } catch {
    map = null;
  }
  state.maps.set(file, map);
  return map;
}

/**
 * Gives the source map of code the probe cannot find one for by its file name: a program that
 * `lockscope explore` bundled and compiled under a name of its own.
 */
export function registerSourceMap(file: string, map: SourceMap): void {
  state.maps.set(file, map);
}

/** Reads a `//# sourceMappingURL=` comment (inline data URL or a file beside the script). */
function readMapComment(path: string): SourceMap | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const m = /\/\/[#@] sourceMappingURL=(\S+)\s*$/.exec(text.slice(-200_000));
  if (!m) return null;
  const url = m[1]!;
  let json: string;
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const payload = url.slice(comma + 1);
    json = url.slice(0, comma).endsWith(';base64')
      ? Buffer.from(payload, 'base64').toString('utf8')
      : decodeURIComponent(payload);
  } else {
    try {
      json = readFileSync(resolvePath(dirname(path), url), 'utf8');
    } catch {
      return null;
    }
  }
  try {
    return new SourceMap(JSON.parse(json) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    return null;
  }
}

/** `Class.method` where V8 knows the class, else the function's own name. */
function functionName(frame: NodeJS.CallSite): string | undefined {
  const name = frame.getFunctionName() ?? undefined;
  if (!name || name.includes('.')) return name;
  const type = frame.getTypeName();
  return type && type !== 'Object' && type !== 'global' ? `${type}.${name}` : name;
}

function intern(frame: NodeJS.CallSite): number {
  const file = frame.getFileName() ?? '<anonymous>';
  const position = frame.getPosition();
  let inFile = state.byPosition.get(file);
  if (!inFile) state.byPosition.set(file, (inFile = new Map<number, SiteRec>()));
  const hit = inFile.get(position);
  if (hit) return hit.msg.id;
  const line = frame.getLineNumber() ?? 0;
  const column = frame.getColumnNumber() ?? 0;
  let outFile = toPath(file);
  let outLine = line;
  let outColumn = column;
  const map = line > 0 ? loadMap(file) : null;
  if (map) {
    const entry = map.findEntry(line - 1, column - 1) as Partial<{
      originalSource: string;
      originalLine: number;
      originalColumn: number;
    }>;
    if (entry.originalSource !== undefined && entry.originalLine !== undefined) {
      const src = toPath(entry.originalSource);
      outFile = isAbsolute(src) ? src : resolvePath(dirname(toPath(file)), src);
      outLine = entry.originalLine + 1;
      outColumn = (entry.originalColumn ?? 0) + 1;
    }
  }
  const fn = functionName(frame);
  const msg: SiteMessage = {
    t: 'site',
    id: newId(rt),
    file: outFile,
    line: outLine,
    column: outColumn,
  };
  if (fn) msg.fn = fn;
  const fnLine = frame.getEnclosingLineNumber();
  if (fnLine) msg.fnAt = [fnLine, frame.getEnclosingColumnNumber() ?? 0];
  const rec: SiteRec = { msg, sentIn: -1 };
  inFile.set(position, rec);
  state.byId.set(msg.id, rec);
  state.fresh = true;
  return msg.id;
}

/**
 * Captures the caller's source site and returns its id. Frames of the probe itself (and of Node's
 * internals) are skipped, so the site is the user's line that called the primitive.
 */
export function captureSite(): number {
  // A call resumed after its gate under the scheduler: its site was taken at the call.
  const explore = rt.explore;
  if (explore !== undefined && explore.site !== 0) {
    const site = explore.site;
    explore.site = 0;
    return site;
  }
  const depth = rt.config.stackDepth;
  const library = hasLibrary();
  const deep = library || state.foreignFrames;
  const frames = callSites(depth + 10 + (deep ? LIBRARY_FRAMES : 0), captureSite);
  const ids: number[] = [];
  // When every frame of the program is library code, the innermost one is the best there is.
  let innermostLibrary: NodeJS.CallSite | undefined;
  for (const frame of frames) {
    const file = frame.getFileName();
    if (!file || isProbeFrame(file)) continue;
    if (library && isLibraryFrame(file)) {
      innermostLibrary ??= frame;
      continue;
    }
    ids.push(intern(frame));
    if (ids.length >= depth) break;
  }
  if (ids.length === 0 && innermostLibrary) ids.push(intern(innermostLibrary));
  if (ids.length === 0) return 0;
  if (ids.length === 1) return ids[0]!;
  // A deeper stack gets a site of its own: the top frame's location, with the callers attached.
  const key = ids.join(',');
  const known = state.stacks.get(key);
  if (known !== undefined) return known;
  const top = state.byId.get(ids[0]!)!.msg;
  const msg: SiteMessage = { ...top, id: newId(rt), stack: ids.slice(1) };
  state.byId.set(msg.id, { msg, sentIn: -1 });
  state.stacks.set(key, msg.id);
  return msg.id;
}

/** Queues the registry messages for `id` (and the frames of its stack) if this sink lacks them. */
export function registerSite(id: number, out: SiteMessage[]): void {
  const rec = state.byId.get(id);
  if (!rec || rec.sentIn === rt.sinkGeneration) return;
  if (rec.msg.stack) for (const frame of rec.msg.stack) registerSite(frame, out);
  rec.sentIn = rt.sinkGeneration;
  out.push(rec.msg);
}

/** Resolves a site id to its location, for in-process use (tests, reports). */
export function siteOf(id: number): SiteMessage | undefined {
  return state.byId.get(id)?.msg;
}

/**
 * True once after new sites were interned. A worker that holds a shared lock may never yield
 * again (stuck in a loop), so it flushes at once when it has new sites: the main thread's
 * reports about that hold (watchdog, abandonment) can then name the site.
 */
export function takeFreshSites(): boolean {
  const fresh = state.fresh;
  state.fresh = false;
  return fresh;
}
