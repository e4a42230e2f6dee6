// Protocol v1: what decodeLine accepts and rejects, the handshake check, and the agreement of the
// wire names in protocol.ts with the compact codes in sync.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CAPABILITIES,
  MISUSE_CODES,
  OPS,
  PROTOCOL_VERSION,
  checkHandshake,
  decodeLine,
  isKnownOp,
  isUnknownMessage,
  validateMessage,
  type DecodeResult,
  type Hello,
  type Message,
  type MessageType,
} from '../../runtime-probe/src/protocol.js';
import { Misuse, Op } from '../../runtime-probe/src/sync.js';

type ByType = { [K in MessageType]: Extract<Message, { t: K }> };

/** One message of every type with every field, optional ones included. */
const FULL: ByType = {
  hello: {
    t: 'hello',
    protocol: PROTOCOL_VERSION,
    probe: '0.1.0',
    capabilities: [...CAPABILITIES],
    pid: 4242,
    title: 'node',
    thread: 0,
    ts: 1_700_000_000_000.125,
    token: 'secret',
  },
  task: { t: 'task', id: 2, name: 'worker', kind: 'spawn', parent: 1, thread: 0 },
  resource: {
    t: 'resource',
    id: 3,
    kind: 'mutex',
    name: 'accounts',
    class: 'bank.ts:12',
    site: 4,
    capacity: 1,
    policy: 'write-preferring',
  },
  site: { t: 'site', id: 4, file: '/app/bank.ts', line: 12, column: 5, fn: 'transfer', stack: [5] },
  events: {
    t: 'events',
    thread: 0,
    origin: 1_700_000_000_000.125,
    events: [
      { us: 1_500, op: 'request', task: 2, res: 3, site: 4, n: 2, peer: 1 },
      { us: 2_500, op: 'acquired', task: 2, res: 3 },
    ],
  },
  heartbeat: { t: 'heartbeat', ts: 1_700_000_000_003, produced: 10, dropped: 0 },
  idle: { t: 'idle', ts: 1_700_000_000_004 },
  end: { t: 'end', ts: 1_700_000_000_005, exitCode: 0, produced: 10, dropped: 0 },
};

/** A time in epoch milliseconds: times must fall between the years 2000 and 2100. */
const T0 = 1_700_000_000_000;

/** One message of every type with only its required fields. */
const MINIMAL: ByType = {
  hello: {
    t: 'hello',
    protocol: PROTOCOL_VERSION,
    probe: '0.1.0',
    capabilities: [],
    pid: 0,
    title: '',
    thread: 0,
    ts: T0,
  },
  task: { t: 'task', id: 0, name: 'main', kind: 'main', thread: 0 },
  resource: { t: 'resource', id: 0, kind: 'something-new', name: '', class: '' },
  site: { t: 'site', id: 0, file: 'a.ts', line: 0, column: 0 },
  events: { t: 'events', thread: 3, origin: T0, events: [] },
  heartbeat: { t: 'heartbeat', ts: T0 + 1.5, produced: 0, dropped: 0 },
  idle: { t: 'idle', ts: T0 },
  end: { t: 'end', ts: T0, exitCode: -1, produced: 0, dropped: 0 },
};

const TYPES = Object.keys(FULL) as MessageType[];

/** JSON has no literal for infinity, but `1e999` parses to it. */
const INF = '@@infinity@@';
const NEG_INF = '@@-infinity@@';

/**
 * The JSON line of FULL[type] with `changes` applied: a value of `undefined` removes the field,
 * INF and NEG_INF become numbers that parse to ±Infinity.
 */
function lineOf(type: MessageType, changes: Record<string, unknown>): string {
  const obj: Record<string, unknown> = { ...FULL[type], ...changes };
  for (const key of Object.keys(changes)) if (changes[key] === undefined) delete obj[key];
  return JSON.stringify(obj)
    .replaceAll(JSON.stringify(INF), '1e999')
    .replaceAll(JSON.stringify(NEG_INF), '-1e999');
}

/** The JSON line of an events message whose only event is FULL's first with `changes`. */
function eventLine(changes: Record<string, unknown>): string {
  return lineOf('events', { events: [{ ...FULL.events.events[0], ...changes }] });
}

function rejection(r: DecodeResult): string {
  assert.equal(r.ok, false, `expected a rejection, got ${JSON.stringify(r)}`);
  return r.ok ? '' : r.error;
}

function accepted(r: DecodeResult): Message {
  if (!r.ok) assert.fail(`expected the message to be accepted: ${r.error}`);
  if (isUnknownMessage(r.message)) assert.fail(`expected a known message type, got ${r.message.t}`);
  return r.message;
}

type Fault =
  | 'missing'
  | 'wrong type'
  | 'negative'
  | 'non-finite'
  | 'out of range'
  | 'event not an object'
  | 'event op type'
  | 'event ts'
  | 'event field'
  | 'not a message';

interface BadRow {
  name: string;
  fault: Fault;
  line: string;
  /** Substrings the reason must contain: the message, the field, and what was expected. */
  reason: string[];
}

const BAD: BadRow[] = [
  // hello
  {
    name: 'hello without probe',

    fault: 'missing',
    line: lineOf('hello', { probe: undefined }),
    reason: ['(hello)', 'missing required field "probe"'],
  },
  {
    name: 'hello with a numeric title',

    fault: 'wrong type',
    line: lineOf('hello', { title: 7 }),
    reason: ['(hello).title', 'expected a string', 'got the number 7'],
  },
  {
    name: 'hello with capabilities as a string',

    fault: 'wrong type',
    line: lineOf('hello', { capabilities: 'events' }),
    reason: ['(hello).capabilities', 'expected an array', 'got the string "events"'],
  },
  {
    name: 'hello with a non-string capability',

    fault: 'wrong type',
    line: lineOf('hello', { capabilities: ['events', 3] }),
    reason: ['(hello).capabilities[1]', 'expected a string'],
  },
  {
    name: 'hello with a numeric token',

    fault: 'wrong type',
    line: lineOf('hello', { token: 123 }),
    reason: ['(hello).token', 'expected a string'],
  },
  {
    name: 'hello with a negative pid',

    fault: 'negative',
    line: lineOf('hello', { pid: -1 }),
    reason: ['(hello).pid', 'expected a non-negative integer', 'got the number -1'],
  },
  {
    name: 'hello with a fractional protocol',

    fault: 'wrong type',
    line: lineOf('hello', { protocol: 1.5 }),
    reason: ['(hello).protocol', 'expected a non-negative integer'],
  },
  {
    name: 'hello with an infinite ts',

    fault: 'non-finite',
    line: lineOf('hello', { ts: INF }),
    reason: ['(hello).ts', 'expected a time in epoch milliseconds', 'Infinity'],
  },
  // task
  {
    name: 'task without name',

    fault: 'missing',
    line: lineOf('task', { name: undefined }),
    reason: ['(task)', 'missing required field "name"'],
  },
  {
    name: 'task with a boolean kind',

    fault: 'wrong type',
    line: lineOf('task', { kind: true }),
    reason: ['(task).kind', 'expected a string', 'got a value of type boolean'],
  },
  {
    name: 'task with a negative id',

    fault: 'negative',
    line: lineOf('task', { id: -1 }),
    reason: ['(task).id', 'expected a non-negative integer', 'got the number -1'],
  },
  {
    name: 'task with a negative parent',

    fault: 'negative',
    line: lineOf('task', { parent: -2 }),
    reason: ['(task).parent', 'expected a non-negative integer'],
  },
  {
    name: 'task with a null parent',

    fault: 'wrong type',
    line: lineOf('task', { parent: null }),
    reason: ['(task).parent', 'expected a non-negative integer', 'got null'],
  },
  {
    name: 'task with an infinite thread',

    fault: 'non-finite',
    line: lineOf('task', { thread: INF }),
    reason: ['(task).thread', 'expected a non-negative integer', 'Infinity'],
  },
  // resource
  {
    name: 'resource without class',

    fault: 'missing',
    line: lineOf('resource', { class: undefined }),
    reason: ['(resource)', 'missing required field "class"'],
  },
  {
    name: 'resource with an object name',

    fault: 'wrong type',
    line: lineOf('resource', { name: { first: 'a' } }),
    reason: ['(resource).name', 'expected a string', 'got a value of type object'],
  },
  {
    name: 'resource with a string capacity',

    fault: 'wrong type',
    line: lineOf('resource', { capacity: '3' }),
    reason: ['(resource).capacity', 'expected a finite number', 'got the string "3"'],
  },
  {
    name: 'resource with a negative id',

    fault: 'negative',
    line: lineOf('resource', { id: -3 }),
    reason: ['(resource).id', 'expected a non-negative integer', 'got the number -3'],
  },
  {
    name: 'resource with a negative site',

    fault: 'negative',
    line: lineOf('resource', { site: -1 }),
    reason: ['(resource).site', 'expected a non-negative integer'],
  },
  {
    name: 'resource with an infinite capacity',

    fault: 'non-finite',
    line: lineOf('resource', { capacity: INF }),
    reason: ['(resource).capacity', 'expected a finite number', 'Infinity'],
  },
  // site
  {
    name: 'site without file',

    fault: 'missing',
    line: lineOf('site', { file: undefined }),
    reason: ['(site)', 'missing required field "file"'],
  },
  {
    name: 'site with a string line',

    fault: 'wrong type',
    line: lineOf('site', { line: '12' }),
    reason: ['(site).line', 'expected a non-negative integer', 'got the string "12"'],
  },
  {
    name: 'site with a stack that is not an array',

    fault: 'wrong type',
    line: lineOf('site', { stack: 5 }),
    reason: ['(site).stack', 'expected an array', 'got the number 5'],
  },
  {
    name: 'site with a negative column',

    fault: 'negative',
    line: lineOf('site', { column: -5 }),
    reason: ['(site).column', 'expected a non-negative integer', 'got the number -5'],
  },
  {
    name: 'site with a negative id in its stack',

    fault: 'negative',
    line: lineOf('site', { stack: [5, -6] }),
    reason: ['(site).stack[1]', 'expected a non-negative integer', 'got the number -6'],
  },
  {
    name: 'site with an infinite line',

    fault: 'non-finite',
    line: lineOf('site', { line: INF }),
    reason: ['(site).line', 'expected a non-negative integer', 'Infinity'],
  },
  // events
  {
    name: 'events without events',

    fault: 'missing',
    line: lineOf('events', { events: undefined }),
    reason: ['(events)', 'missing required field "events"'],
  },
  {
    name: 'events with events as an object',

    fault: 'wrong type',
    line: lineOf('events', { events: { 0: FULL.events.events[0] } }),
    reason: ['(events).events', 'expected an array', 'got a value of type object'],
  },
  {
    name: 'events with a negative thread',

    fault: 'negative',
    line: lineOf('events', { thread: -1 }),
    reason: ['(events).thread', 'expected a non-negative integer', 'got the number -1'],
  },
  {
    name: 'events with an infinite thread',

    fault: 'non-finite',
    line: lineOf('events', { thread: NEG_INF }),
    reason: ['(events).thread', 'expected a non-negative integer', '-Infinity'],
  },
  {
    name: 'an event that is a number',

    fault: 'event not an object',
    line: lineOf('events', { events: [FULL.events.events[0], 5] }),
    reason: ['(events).events[1]', 'expected an event object', 'got the number 5'],
  },
  {
    name: 'an event that is null',

    fault: 'event not an object',
    line: lineOf('events', { events: [null] }),
    reason: ['(events).events[0]', 'expected an event object', 'got null'],
  },
  {
    name: 'an event that is an array',

    fault: 'event not an object',
    line: lineOf('events', { events: [[1, 'acquired', 2]] }),
    reason: ['(events).events[0]', 'expected an event object', 'got an array'],
  },
  {
    name: 'an event with a numeric op',

    fault: 'event op type',
    line: eventLine({ op: 2 }),
    reason: ['(events).events[0].op', 'expected a string', 'got the number 2'],
  },
  {
    name: 'an event without op',

    fault: 'event field',
    line: eventLine({ op: undefined }),
    reason: ['(events).events[0]', 'missing required field "op"'],
  },
  {
    name: 'an event with a string us',

    fault: 'event ts',
    line: eventLine({ us: '1500' }),
    reason: ['(events).events[0].us', 'expected a non-negative integer', 'got the string'],
  },
  {
    name: 'an event with a fractional us',

    fault: 'event ts',
    line: eventLine({ us: 1.5 }),
    reason: ['(events).events[0].us', 'expected a non-negative integer', '1.5'],
  },
  {
    name: 'an event without us',

    fault: 'event ts',
    line: eventLine({ us: undefined }),
    reason: ['(events).events[0]', 'missing required field "us"'],
  },
  {
    name: 'an events batch without origin',

    fault: 'missing',
    line: lineOf('events', { origin: undefined }),
    reason: ['(events)', 'missing required field "origin"'],
  },
  {
    name: 'an event with a negative task',

    fault: 'event field',
    line: eventLine({ task: -1 }),
    reason: ['(events).events[0].task', 'expected a non-negative integer', 'got the number -1'],
  },
  {
    name: 'an event with a fractional res',

    fault: 'event field',
    line: eventLine({ res: 1.5 }),
    reason: ['(events).events[0].res', 'expected a non-negative integer', 'got the number 1.5'],
  },
  {
    name: 'an event with an infinite n',

    fault: 'event field',
    line: eventLine({ n: INF }),
    reason: ['(events).events[0].n', 'expected a finite number', 'Infinity'],
  },
  // heartbeat
  {
    name: 'heartbeat without produced',

    fault: 'missing',
    line: lineOf('heartbeat', { produced: undefined }),
    reason: ['(heartbeat)', 'missing required field "produced"'],
  },
  {
    name: 'heartbeat with a string dropped',

    fault: 'wrong type',
    line: lineOf('heartbeat', { dropped: '0' }),
    reason: ['(heartbeat).dropped', 'expected a non-negative integer', 'got the string "0"'],
  },
  {
    name: 'heartbeat with a negative produced',

    fault: 'negative',
    line: lineOf('heartbeat', { produced: -10 }),
    reason: ['(heartbeat).produced', 'expected a non-negative integer', 'got the number -10'],
  },
  {
    name: 'events with an origin far past any clock',

    fault: 'out of range',
    line: lineOf('events', { origin: 1e300 }),
    reason: ['(events).origin', 'expected a time in epoch milliseconds', '1e+300'],
  },
  {
    name: 'hello with a ts before the year 2000',

    fault: 'out of range',
    line: lineOf('hello', { ts: 5 }),
    reason: ['(hello).ts', 'expected a time in epoch milliseconds', 'got the number 5'],
  },
  {
    name: 'heartbeat with an infinite ts',

    fault: 'non-finite',
    line: lineOf('heartbeat', { ts: INF }),
    reason: ['(heartbeat).ts', 'expected a time in epoch milliseconds', 'Infinity'],
  },
  // idle: its only field is `ts`, a number that may be negative, so it has no negative-id row.
  {
    name: 'idle without ts',

    fault: 'missing',
    line: lineOf('idle', { ts: undefined }),
    reason: ['(idle)', 'missing required field "ts"'],
  },
  {
    name: 'idle with a string ts',

    fault: 'wrong type',
    line: lineOf('idle', { ts: 'now' }),
    reason: ['(idle).ts', 'expected a time in epoch milliseconds', 'got the string "now"'],
  },
  {
    name: 'idle with a negative infinite ts',

    fault: 'non-finite',
    line: lineOf('idle', { ts: NEG_INF }),
    reason: ['(idle).ts', 'expected a time in epoch milliseconds', '-Infinity'],
  },
  // end
  {
    name: 'end without exitCode',

    fault: 'missing',
    line: lineOf('end', { exitCode: undefined }),
    reason: ['(end)', 'missing required field "exitCode"'],
  },
  {
    name: 'end with a string exitCode',

    fault: 'wrong type',
    line: lineOf('end', { exitCode: '0' }),
    reason: ['(end).exitCode', 'expected an integer', 'got the string "0"'],
  },
  {
    name: 'end with a fractional exitCode',

    fault: 'wrong type',
    line: lineOf('end', { exitCode: 0.5 }),
    reason: ['(end).exitCode', 'expected an integer', 'got the number 0.5'],
  },
  {
    name: 'end with a negative dropped',

    fault: 'negative',
    line: lineOf('end', { dropped: -1 }),
    reason: ['(end).dropped', 'expected a non-negative integer', 'got the number -1'],
  },
  {
    name: 'end with an infinite ts',

    fault: 'non-finite',
    line: lineOf('end', { ts: INF }),
    reason: ['(end).ts', 'expected a time in epoch milliseconds', 'Infinity'],
  },
  // Not a message at all.
  {
    name: 'text that is not JSON',
    fault: 'not a message',
    line: 'hello world',
    reason: ['line', 'not valid JSON'],
  },
  {
    name: 'a truncated JSON object',
    fault: 'not a message',
    line: '{"t":"hello",',
    reason: ['not valid JSON'],
  },
  { name: 'an empty line', fault: 'not a message', line: '', reason: ['not valid JSON'] },
  {
    name: 'a JSON array',

    fault: 'not a message',
    line: JSON.stringify([FULL.hello]),
    reason: ['expected a JSON object', 'got an array'],
  },
  {
    name: 'JSON null',
    fault: 'not a message',
    line: 'null',
    reason: ['expected a JSON object', 'got null'],
  },
  {
    name: 'a JSON string',

    fault: 'not a message',
    line: '"hello"',
    reason: ['expected a JSON object', 'got the string "hello"'],
  },
  {
    name: 'a JSON number',
    fault: 'not a message',
    line: '42',
    reason: ['expected a JSON object', 'got the number 42'],
  },
  {
    name: 'an object without "t"',

    fault: 'missing',
    line: lineOf('hello', { t: undefined }),
    reason: ['missing the message type field "t"'],
  },
  {
    name: 'an object whose "t" is a number',

    fault: 'not a message',
    line: lineOf('hello', { t: 1 }),
    reason: ['missing the message type field "t"', 'expected a string'],
  },
];

describe('decodeLine rejects a bad line, naming the field', () => {
  for (const row of BAD) {
    it(row.name, () => {
      const error = rejection(decodeLine(row.line));
      for (const part of row.reason) {
        assert.ok(error.includes(part), `reason ${JSON.stringify(error)} should contain ${part}`);
      }
    });
  }

  it('has a row for every message type and fault', () => {
    const rowsOf = (type: MessageType, fault: Fault): BadRow[] =>
      BAD.filter((r) => r.fault === fault && r.reason.some((p) => p.startsWith(`(${type})`)));
    for (const type of TYPES) {
      // idle has no field that must be a non-negative integer.
      const faults: Fault[] =
        type === 'idle'
          ? ['missing', 'wrong type', 'non-finite']
          : ['missing', 'wrong type', 'negative', 'non-finite'];
      if (type === 'events') faults.push('event not an object', 'event op type', 'event ts');
      for (const fault of faults) assert.ok(rowsOf(type, fault).length > 0, `${type}: ${fault}`);
    }
  });

  it('names the line it was given', () => {
    const error = rejection(decodeLine('{', 'trace.jsonl:17'));
    assert.ok(error.startsWith('trace.jsonl:17: not valid JSON'), error);
    const bad = rejection(decodeLine(lineOf('task', { id: -1 }), 'message 3'));
    assert.ok(bad.startsWith('message 3 (task).id:'), bad);
  });

  it('shortens a long line that is not JSON', () => {
    const error = rejection(decodeLine('x'.repeat(10_000)));
    assert.ok(error.length < 400, `reason is ${error.length} characters long`);
    assert.ok(error.includes('…'), error);
  });

  it('validateMessage rejects values that are not objects', () => {
    assert.ok(rejection(validateMessage(undefined)).includes('a value of type undefined'));
    assert.ok(rejection(validateMessage([])).includes('got an array'));
    assert.ok(rejection(validateMessage('hello', 'input')).startsWith('input: expected'));
  });
});

describe('decodeLine accepts valid messages', () => {
  for (const type of TYPES) {
    it(`${type} with every field`, () => {
      assert.deepEqual(accepted(decodeLine(JSON.stringify(FULL[type]))), FULL[type]);
    });
    it(`${type} with only its required fields`, () => {
      assert.deepEqual(accepted(decodeLine(JSON.stringify(MINIMAL[type]))), MINIMAL[type]);
    });
  }

  it('accepts -0, large safe integers and negative control timestamps', () => {
    const m = accepted(
      decodeLine(lineOf('task', { id: Number.MAX_SAFE_INTEGER, thread: -0, parent: 0 })),
    );
    assert.equal(m.t, 'task');
    const e = accepted(decodeLine(eventLine({ us: 0, n: -3.25 })));
    assert.equal(e.t, 'events');
  });

  it('rejects integers beyond the safe range', () => {
    const error = rejection(decodeLine(lineOf('task', { id: 2 ** 53 })));
    assert.ok(error.includes('(task).id'), error);
  });

  it('accepts unknown message types as {unknown: true} (open enum)', () => {
    const r = decodeLine('{"t":"gc-pause","ms":12,"nested":{"a":[1]}}');
    assert.deepEqual(r, { ok: true, message: { t: 'gc-pause', unknown: true } });
    if (r.ok) assert.equal(isUnknownMessage(r.message), true);
    assert.deepEqual(decodeLine('{"t":""}'), { ok: true, message: { t: '', unknown: true } });
    // Names of Object.prototype members are not message types.
    for (const t of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      assert.deepEqual(validateMessage({ t }), { ok: true, message: { t, unknown: true } });
    }
  });

  it('ignores unknown fields of every type (additive evolution)', () => {
    for (const type of TYPES) {
      const extra = { future: { nested: [1, 'two'] }, alsoNew: null };
      const m = accepted(decodeLine(lineOf(type, extra)));
      assert.equal(m.t, type);
      assert.deepEqual(m, { ...FULL[type], ...extra });
    }
    const e = accepted(decodeLine(eventLine({ stackDepth: 3, op: 'brand-new-op' })));
    assert.equal(e.t, 'events');
  });

  it('keeps a known message that carries a field named "unknown"', () => {
    const r = decodeLine(lineOf('task', { unknown: true }));
    assert.ok(r.ok);
    assert.equal(isUnknownMessage(r.message), false);
    assert.equal(r.message.t, 'task');
  });
});

describe('isKnownOp', () => {
  it('knows every name in OPS', () => {
    for (const op of OPS) assert.equal(isKnownOp(op), true, op);
  });

  it('does not know other names', () => {
    for (const op of ['acquire', 'Acquired', '', 'try_failed', 'toString', 'constructor']) {
      assert.equal(isKnownOp(op), false, op);
    }
  });
});

describe('checkHandshake', () => {
  const hello = (protocol: number): Hello => ({ ...FULL.hello, protocol, probe: '9.9.9' });

  it('accepts protocol 1', () => {
    assert.equal(PROTOCOL_VERSION, 1);
    assert.equal(checkHandshake(hello(1)), null);
  });

  it('tells the user to update the program for an older probe (protocol 0)', () => {
    const message = checkHandshake(hello(0));
    assert.ok(message !== null);
    assert.ok(message.includes('protocol 0'), message);
    assert.ok(message.includes('9.9.9'), message);
    assert.ok(message.includes("Update the program's lockscope dependency"), message);
    assert.ok(message.includes('npm install lockscope@latest'), message);
  });

  it('tells the user to update the extension or CLI for a newer probe (protocol 2)', () => {
    const message = checkHandshake(hello(2));
    assert.ok(message !== null);
    assert.ok(message.includes('protocol 2'), message);
    assert.ok(message.includes('understands only protocol 1'), message);
    assert.ok(message.includes('Update the Lockscope extension or CLI'), message);
  });
});

/** `tryFailed` → `try-failed`. */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

describe('codes in sync.ts agree with the wire names in protocol.ts', () => {
  it('OPS[Op.x] is the wire name of x, and every op has a code', () => {
    assert.equal(OPS[0], 'invalid');
    for (const [key, code] of Object.entries(Op)) assert.equal(OPS[code], kebab(key), key);
    const codes = Object.values(Op).sort((a, b) => a - b);
    assert.deepEqual(
      codes,
      OPS.map((_, i) => i).slice(1),
      'Op covers the indices 1..OPS.length-1 once each',
    );
  });

  it('MISUSE_CODES[Misuse.x] is the wire name of x, and every misuse has a code', () => {
    assert.equal(MISUSE_CODES[0], 'none');
    for (const [key, code] of Object.entries(Misuse)) {
      assert.equal(MISUSE_CODES[code], kebab(key), key);
    }
    const codes = Object.values(Misuse).sort((a, b) => a - b);
    assert.deepEqual(codes, MISUSE_CODES.map((_, i) => i).slice(1));
  });
});
