// The receiving side of a stream without a socket: LineDecoder and StreamSession.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LineDecoder, ProtocolError, StreamSession } from '../../runtime-probe/src/collector.js';
import { checkHandshake, type Hello } from '../../runtime-probe/src/protocol.js';
import { eventsLine, helloLine, TASK_LINE } from '../wire.js';

const TOKEN = 'f00dfeed'.repeat(6);

function hello(extra: Partial<Hello> = {}): string {
  return helloLine(TOKEN, extra);
}

const events = eventsLine;
const TASK = TASK_LINE;

/** Asserts that `fn` throws a ProtocolError whose message contains every one of `parts`. */
function refuses(fn: () => unknown, ...parts: string[]): string {
  let message = '';
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
    assert.equal(err.name, 'ProtocolError');
    message = err.message;
    for (const part of parts)
      assert.ok(message.includes(part), `${message} should contain ${part}`);
    return true;
  });
  return message;
}

describe('StreamSession', () => {
  it('accepts a hello with the right token, then messages in order', () => {
    const s = new StreamSession(TOKEN);
    const h = s.accept(hello());
    assert.equal(h?.t, 'hello');
    assert.equal(s.hello?.pid, 100);
    assert.equal(s.accept(TASK)?.t, 'task');
    const e = s.accept(events('request', 'acquired'));
    assert.ok(e?.t === 'events');
    assert.equal(e.events.length, 2);
    assert.deepEqual(s.counters, { messages: 3, events: 2, unknownMessages: 0, unknownOps: 0 });
  });

  it('requires the first message to be a hello', () => {
    refuses(() => new StreamSession(TOKEN).accept(TASK), 'message 1', 'expected a hello first');
    refuses(() => new StreamSession(undefined).accept(events('acquired')), 'got "events"');
  });

  it('refuses a message of an unknown type before the hello', () => {
    refuses(() => new StreamSession(undefined).accept('{"t":"later"}'), 'hello first', '"later"');
  });

  it('skips blank lines, before and after the hello', () => {
    const s = new StreamSession(TOKEN);
    assert.equal(s.accept(''), null);
    assert.equal(s.accept('   \t'), null);
    assert.equal(s.hello, undefined);
    assert.equal(s.accept(hello())?.t, 'hello');
    assert.equal(s.accept(''), null);
    assert.equal(s.counters.messages, 1);
  });

  it('accepts a line that ends in a carriage return', () => {
    const s = new StreamSession(TOKEN);
    assert.equal(s.accept(hello() + '\r')?.t, 'hello');
  });

  it('refuses a wrong, missing or differently sized token', () => {
    const wrong = TOKEN.slice(0, -1) + (TOKEN.endsWith('0') ? '1' : '0');
    for (const token of [wrong, undefined, '', TOKEN + '00', TOKEN.slice(0, 8)]) {
      const s = new StreamSession(TOKEN);
      refuses(() => s.accept(hello({ token })), 'did not present the right token');
      assert.equal(s.hello, undefined, `token ${String(token)}`);
    }
  });

  it('does not require a token when none is expected (trace files)', () => {
    const s = new StreamSession(undefined);
    assert.equal(s.accept(hello({ token: undefined }))?.t, 'hello');
  });

  it('refuses a newer protocol, telling the user to update the extension or CLI', () => {
    const s = new StreamSession(TOKEN);
    const message = refuses(() => s.accept(hello({ protocol: 2 })), 'Update the Lockscope');
    const expected = checkHandshake(JSON.parse(hello({ protocol: 2 })) as Hello);
    assert.equal(message, expected);
    assert.equal(s.hello, undefined);
  });

  it('refuses an older protocol, telling the user to update the program', () => {
    const s = new StreamSession(TOKEN);
    refuses(() => s.accept(hello({ protocol: 0 })), "Update the program's lockscope dependency");
  });

  it('refuses a second hello', () => {
    const s = new StreamSession(TOKEN);
    s.accept(hello());
    s.accept(TASK);
    refuses(() => s.accept(hello()), 'message 3', 'a second hello');
  });

  it('refuses a malformed message with the line number and the field', () => {
    const s = new StreamSession(TOKEN);
    s.accept(hello());
    s.accept('');
    refuses(
      () => s.accept('{"t":"task","id":1}'),
      'message 3 (task)',
      'missing required field "name"',
    );
    refuses(() => s.accept('not json'), 'message 4', 'not valid JSON');
  });

  it('counts unknown message types and goes on', () => {
    const s = new StreamSession(TOKEN);
    s.accept(hello());
    assert.equal(s.accept('{"t":"gc-pause","ms":3}'), null);
    assert.equal(s.accept('{"t":"profile"}'), null);
    assert.equal(s.accept(TASK)?.t, 'task');
    assert.equal(s.counters.unknownMessages, 2);
    assert.equal(s.counters.messages, 2);
  });

  it('counts unknown operations and goes on', () => {
    const s = new StreamSession(TOKEN);
    s.accept(hello());
    const m = s.accept(events('acquired', 'teleport', 'released', 'warp', 'warp'));
    assert.ok(m?.t === 'events');
    assert.deepEqual(
      m.events.map((e) => e.op),
      ['acquired', 'teleport', 'released', 'warp', 'warp'],
    );
    assert.equal(s.counters.events, 5);
    assert.equal(s.counters.unknownOps, 3);
  });

  it('counts events across batches', () => {
    const s = new StreamSession(TOKEN);
    s.accept(hello());
    s.accept(events('request', 'acquired', 'released'));
    s.accept(events());
    s.accept(events('wait', 'wake'));
    assert.deepEqual(s.counters, { messages: 4, events: 5, unknownMessages: 0, unknownOps: 0 });
  });

  it('delivers a known message that has a field named "unknown"', () => {
    const s = new StreamSession(TOKEN);
    const h = s.accept(JSON.stringify({ ...(JSON.parse(hello()) as Hello), unknown: true }));
    assert.equal(h?.t, 'hello');
    const task = s.accept(JSON.stringify({ ...(JSON.parse(TASK) as object), unknown: 1 }));
    assert.equal(task?.t, 'task');
    assert.equal(s.counters.unknownMessages, 0);
  });
});

describe('LineDecoder', () => {
  it('returns complete lines and keeps the partial one', () => {
    const d = new LineDecoder();
    assert.deepEqual(d.push('a\nbb\nccc'), ['a', 'bb']);
    assert.equal(d.pending, 'ccc');
    assert.deepEqual(d.push('c'), []);
    assert.equal(d.pending, 'cccc');
    assert.deepEqual(d.push('\n'), ['cccc']);
    assert.equal(d.pending, '');
  });

  it('keeps empty lines', () => {
    assert.deepEqual(new LineDecoder().push('\n\nx\n'), ['', '', 'x']);
  });

  it('gives the same lines however the stream is split into chunks', () => {
    const text = '{"t":"hello"}\n\n{"t":"events","events":[]}\nδ€😀\nlast';
    const expected = ['{"t":"hello"}', '', '{"t":"events","events":[]}', 'δ€😀'];
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        const d = new LineDecoder();
        const got = [
          ...d.push(text.slice(0, i)),
          ...d.push(text.slice(i, j)),
          ...d.push(text.slice(j)),
        ];
        assert.deepEqual(got, expected, `split at ${i} and ${j}`);
        assert.equal(d.pending, 'last');
      }
    }
  });

  it('accepts a line exactly at its limit', () => {
    const d = new LineDecoder(10);
    assert.deepEqual(d.push('x'.repeat(10)), []);
    assert.deepEqual(d.push('\n' + 'y'.repeat(10) + '\n'), ['x'.repeat(10), 'y'.repeat(10)]);
  });

  it('throws on a partial line over its limit', () => {
    const d = new LineDecoder(10);
    assert.throws(() => d.push('x'.repeat(11)), /a line is longer than 10 characters/);
  });

  it('throws on a line that grows over its limit across chunks', () => {
    const d = new LineDecoder(10);
    assert.deepEqual(d.push('ok\n' + 'x'.repeat(6)), ['ok']);
    assert.throws(() => d.push('x'.repeat(6)), /longer than 10 characters/);
  });

  it('throws on a complete line over its limit that arrives in one chunk', () => {
    const d = new LineDecoder(10);
    assert.throws(() => d.push('short\n' + 'x'.repeat(11) + '\nshort\n'), /longer than 10/);
  });
});
