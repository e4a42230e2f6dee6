/**
 * The events' fast check (validate.ts, `eventOk`) says yes exactly when the schema's detailed
 * check finds nothing wrong, on generated events good and bad.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { eventOk, eventProblem } from '../../runtime-probe/src/validate.js';

const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.maxSafeNat(),
  fc.integer(),
  fc.double(),
  fc.constant(2 ** 53),
  fc.constant(-0),
  fc.string(),
  fc.boolean(),
  fc.array(fc.nat(), { maxLength: 2 }),
);
const good = fc.record(
  {
    us: fc.maxSafeNat(),
    op: fc.constantFrom('acquired', 'released', 'some-new-op'),
    task: fc.maxSafeNat(),
    res: fc.maxSafeNat(),
    site: fc.maxSafeNat(),
    n: fc.double({ noNaN: true, noDefaultInfinity: true }),
    peer: fc.maxSafeNat(),
  },
  { requiredKeys: ['us', 'op', 'task'] },
);
/** A good event with one field replaced by anything, or no object at all. */
const event = fc.oneof(
  good,
  fc
    .tuple(good, fc.constantFrom('us', 'op', 'task', 'res', 'site', 'n', 'peer', 'extra'), anyValue)
    .map(([e, key, value]) => ({ ...e, [key]: value })),
  anyValue,
);

describe('eventOk', () => {
  it('agrees with the detailed check on every generated event', () => {
    fc.assert(
      fc.property(event, (ev) => {
        assert.equal(eventOk(ev), eventProblem(ev) === null, JSON.stringify(ev));
      }),
      { numRuns: 5_000 },
    );
  });

  it('says why a bad event is bad', () => {
    assert.equal(eventOk({ us: 1, op: 'acquired', task: -1 }), false);
    assert.match(
      eventProblem({ us: 1, op: 'acquired', task: -1 }) ?? '',
      /task: expected a non-negative integer/,
    );
  });
});
