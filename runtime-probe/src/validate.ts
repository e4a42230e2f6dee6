/**
 * Validation of what a stream carries, where it enters: each message type's fields and their
 * types, with a reason that names the field when one is wrong. Events, millions of them, take a
 * fast path that only says yes or no; the reason is worked out for a bad one only.
 */
import {
  MAX_GLOBAL_KEY,
  type DecodeResult,
  type Message,
  type MessageType,
  type UnknownMessage,
} from './protocol.js';

type FieldType =
  | 'int'
  | 'uint'
  | 'number'
  | 'epochMs'
  | 'string'
  | 'key'
  | 'boolean'
  | 'strings'
  | 'uints'
  | 'events';

/**
 * The times a stream may carry, in epoch milliseconds: from 2000 to 2100. A time outside them is
 * a broken or hostile producer, and would make every duration computed from it absurd.
 */
const EPOCH_MS_MIN = Date.UTC(2000, 0, 1);
const EPOCH_MS_MAX = Date.UTC(2100, 0, 1);
interface FieldSpec {
  type: FieldType;
  optional?: boolean;
}
type Schema = Record<string, FieldSpec>;

const req = (type: FieldType): FieldSpec => ({ type });
const opt = (type: FieldType): FieldSpec => ({ type, optional: true });

const SCHEMAS: Record<MessageType, Schema> = {
  hello: {
    protocol: req('uint'),
    probe: req('string'),
    capabilities: req('strings'),
    pid: req('uint'),
    ppid: opt('uint'),
    title: req('string'),
    script: opt('string'),
    thread: req('uint'),
    ts: req('epochMs'),
    token: opt('string'),
  },
  task: {
    id: req('uint'),
    name: req('string'),
    kind: req('string'),
    parent: opt('uint'),
    thread: req('uint'),
    uncertain: opt('boolean'),
  },
  resource: {
    id: req('uint'),
    kind: req('string'),
    name: req('string'),
    class: req('string'),
    site: opt('uint'),
    capacity: opt('number'),
    policy: opt('string'),
    global: opt('key'),
  },
  site: {
    id: req('uint'),
    file: req('string'),
    line: req('uint'),
    column: req('uint'),
    fn: opt('string'),
    fnAt: opt('uints'),
    stack: opt('uints'),
  },
  events: { thread: req('uint'), origin: req('epochMs'), events: req('events') },
  heartbeat: { ts: req('epochMs'), produced: req('uint'), dropped: req('uint') },
  idle: { ts: req('epochMs') },
  end: { ts: req('epochMs'), exitCode: req('int'), produced: req('uint'), dropped: req('uint') },
};

const EVENT_SCHEMA: Schema = {
  us: req('uint'),
  op: req('string'),
  task: req('uint'),
  res: opt('uint'),
  site: opt('uint'),
  n: opt('number'),
  peer: opt('uint'),
};

const isUint = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Whether `ev` is a well-formed event: EVENT_SCHEMA written out, for the path every event of
 * every batch takes (a test holds the two together). A bad one goes through `checkFields`, which
 * says what is wrong.
 */
export function eventOk(ev: unknown): boolean {
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) return false;
  const e = ev as Record<string, unknown>;
  const { res, site, n, peer } = e;
  return (
    isUint(e.us) &&
    typeof e.op === 'string' &&
    isUint(e.task) &&
    (res === undefined || isUint(res)) &&
    (site === undefined || isUint(site)) &&
    (n === undefined || (typeof n === 'number' && Number.isFinite(n))) &&
    (peer === undefined || isUint(peer))
  );
}

/** What is wrong with `ev`, by EVENT_SCHEMA; null if nothing is. */
export function eventProblem(ev: unknown, where = 'event'): string | null {
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) {
    return `${where}: expected an event object, got ${describe(ev)}`;
  }
  return checkFields(where, ev as Record<string, unknown>, EVENT_SCHEMA);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  }
  if (typeof value === 'number') return `the number ${value}`;
  return `a value of type ${typeof value}`;
}

function checkScalar(type: FieldType, value: unknown): string | undefined {
  switch (type) {
    case 'int':
      return Number.isSafeInteger(value) ? undefined : 'an integer';
    case 'uint':
      return Number.isSafeInteger(value) && (value as number) >= 0
        ? undefined
        : 'a non-negative integer';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'a finite number';
    case 'epochMs':
      return typeof value === 'number' && value >= EPOCH_MS_MIN && value <= EPOCH_MS_MAX
        ? undefined
        : 'a time in epoch milliseconds between the years 2000 and 2100';
    case 'string':
      return typeof value === 'string' ? undefined : 'a string';
    case 'key':
      return typeof value === 'string' && value.length > 0 && value.length <= MAX_GLOBAL_KEY
        ? undefined
        : `a string of 1 to ${MAX_GLOBAL_KEY} characters`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean';
    default:
      return undefined;
  }
}

function checkFields(where: string, obj: Record<string, unknown>, schema: Schema): string | null {
  for (const key in schema) {
    const spec = schema[key]!;
    const value = obj[key];
    if (value === undefined) {
      if (spec.optional) continue;
      return `${where}: missing required field "${key}"`;
    }
    const path = `${where}.${key}`;
    if (spec.type === 'strings' || spec.type === 'uints') {
      if (!Array.isArray(value)) return `${path}: expected an array, got ${describe(value)}`;
      const inner = spec.type === 'strings' ? 'string' : 'uint';
      for (let i = 0; i < value.length; i++) {
        const wrong = checkScalar(inner, value[i]);
        if (wrong) return `${path}[${i}]: expected ${wrong}, got ${describe(value[i])}`;
      }
      continue;
    }
    if (spec.type === 'events') {
      if (!Array.isArray(value)) return `${path}: expected an array, got ${describe(value)}`;
      for (let i = 0; i < value.length; i++) {
        const ev: unknown = value[i];
        if (eventOk(ev)) continue;
        const bad = eventProblem(ev, `${path}[${i}]`);
        if (bad) return bad;
      }
      continue;
    }
    const wrong = checkScalar(spec.type, value);
    if (wrong) return `${path}: expected ${wrong}, got ${describe(value)}`;
  }
  return null;
}

function isKnownType(t: string): t is MessageType {
  return Object.prototype.hasOwnProperty.call(SCHEMAS, t);
}

/**
 * True for a decoded message of a type this receiver does not know. Decided by `t`, not by the
 * presence of an `unknown` field, which a known message may carry as an ignored extra field.
 */
export function isUnknownMessage(m: Message | UnknownMessage): m is UnknownMessage {
  return !isKnownType(m.t);
}

/**
 * Validates one parsed message. Unknown message types are accepted as `UnknownMessage` so that a
 * newer probe can talk to an older collector; a known type with a missing or mistyped field is
 * rejected with a reason naming the field.
 */
export function validateMessage(value: unknown, where = 'message'): DecodeResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: `${where}: expected a JSON object, got ${describe(value)}` };
  }
  const obj = value as Record<string, unknown>;
  const t = obj.t;
  if (typeof t !== 'string') {
    return {
      ok: false,
      error: `${where}: missing the message type field "t" (expected a string such as "hello" or "events")`,
    };
  }
  if (!isKnownType(t)) return { ok: true, message: { t, unknown: true } };
  const bad = checkFields(`${where} (${t})`, obj, SCHEMAS[t]);
  if (bad) return { ok: false, error: bad };
  return { ok: true, message: obj as unknown as Message };
}

/** Parses and validates one line of a JSON Lines stream. */
export function decodeLine(line: string, where = 'line'): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const shown = line.length > 60 ? line.slice(0, 60) + '…' : line;
    return { ok: false, error: `${where}: not valid JSON (${reason}): ${JSON.stringify(shown)}` };
  }
  return validateMessage(parsed, where);
}
