/**
 * The collector's private folder on POSIX systems: made with mode 0700 in the temporary folder,
 * with a small `owner` file naming the process that made it; removed when the collector closes
 * or, failing that, when that process exits; and swept by the next collector to start when its
 * owner died without removing it (killed with SIGKILL, or an extension host that crashed).
 */
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidNamespace, pidNow, procStat } from './processes.js';

export const FOLDER_PREFIX = 'lockscope-';
/** The file in the folder that names its owner. */
export const OWNER_FILE = 'owner';
/** What mkdtemp makes of the prefix: six random letters and digits after it. */
const FOLDER_NAME = /^lockscope-[A-Za-z0-9]{6}$/;
/** An owner file is a few dozen bytes; anything much larger is not one. */
const MAX_OWNER_BYTES = 4096;

/** The process that made a folder, as its `owner` file records it. */
export interface Owner {
  pid: number;
  /** The start time in clock ticks since boot (Linux), which tells a reused pid apart. */
  start?: string;
  /** The machine, for a temporary folder that several machines share. */
  host?: string;
  /** The pid namespace (Linux), for a temporary folder that several containers share. */
  pidns?: string;
}

/** What is known now of the pid an owner file names, from where the sweep runs. */
export interface PidNow {
  /** A zombie does not count: it has ended, and its exit hooks have run. */
  exists: boolean;
  /** Its start time, when the system tells it. */
  start: string | undefined;
}

/** Reads an owner file's text; undefined for anything that is not one. Pure. */
export function parseOwner(text: string): Owner | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o.pid !== 'number' || !Number.isSafeInteger(o.pid) || o.pid <= 0) return undefined;
  const owner: Owner = { pid: o.pid };
  for (const key of ['start', 'host', 'pidns'] as const) {
    const field = o[key];
    if (field === undefined) continue;
    if (typeof field !== 'string') return undefined;
    owner[key] = field;
  }
  return owner;
}

/**
 * Whether the owner of a folder is gone, judged by a process that sees `here` (its own host and
 * pid namespace) and `now` (what the system says of the owner's pid). Pure. A pid from another
 * machine or namespace proves nothing here, and a live pid is taken as the owner unless its start
 * time shows it was handed out again: when in doubt, a folder is kept.
 */
export function ownerGone(owner: Owner, here: Omit<Owner, 'pid' | 'start'>, now: PidNow): boolean {
  if (owner.host !== here.host || owner.pidns !== here.pidns) return false;
  if (!now.exists) return true;
  return owner.start !== undefined && now.start !== undefined && owner.start !== now.start;
}

/** The folders this process made and has not removed, for the exit hook. */
const open = new Set<string>();
let exitHooked = false;

/** On any exit that runs JavaScript (the end, process.exit, an uncaught error), no folder stays. */
function removeOpenFolders(): void {
  for (const dir of open) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Nothing more can be done while the process exits; the next collector sweeps it.
    }
  }
  open.clear();
}

function here(): Omit<Owner, 'pid' | 'start'> {
  const ns = pidNamespace();
  return { host: hostname(), ...(ns !== undefined ? { pidns: ns } : {}) };
}

/**
 * Makes a fresh private folder in the temporary folder, after sweeping the stale ones there,
 * records this process as its owner, and removes it when the process exits unless
 * `removeFolder` did first.
 */
export function makeFolder(): string {
  const base = tmpdir();
  sweepStaleFolders(base);
  const dir = mkdtempSync(join(base, FOLDER_PREFIX));
  try {
    chmodSync(dir, 0o700);
    const start = procStat(process.pid)?.start;
    const owner: Owner = { pid: process.pid, ...(start !== undefined ? { start } : {}), ...here() };
    writeFileSync(join(dir, OWNER_FILE), JSON.stringify(owner) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  open.add(dir);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', removeOpenFolders);
  }
  return dir;
}

/** Removes a folder that `makeFolder` made. */
export function removeFolder(dir: string): void {
  open.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Reads a folder's owner file without following a symbolic link; undefined if it has none. */
function readOwner(dir: string): Owner | undefined {
  let fd: number;
  try {
    fd = openSync(join(dir, OWNER_FILE), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_OWNER_BYTES) return undefined;
    return parseOwner(readFileSync(fd, 'utf8'));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes the folders in `base` that a collector made and whose owner is gone, and returns their
 * paths. Only real folders (never a symbolic link) of this user with a readable owner file are
 * judged; a folder whose owner file is missing may be one that another collector is making right
 * now, and is kept. Never throws: a sweep that fails leaves folders, never breaks a start.
 */
export function sweepStaleFolders(base: string = tmpdir()): string[] {
  const removed: string[] = [];
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  const self = here();
  for (const name of names) {
    if (!FOLDER_NAME.test(name)) continue;
    const dir = join(base, name);
    try {
      const stat = lstatSync(dir);
      if (!stat.isDirectory() || stat.uid !== uid) continue;
      const owner = readOwner(dir);
      if (!owner || open.has(dir)) continue;
      const { running, start } = pidNow(owner.pid);
      const now: PidNow = { exists: running, start };
      if (!ownerGone(owner, self, now)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Another sweep removed it first, or it cannot be read: either way, it is not ours to judge.
    }
  }
  return removed;
}
