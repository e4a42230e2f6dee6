/**
 * The probe's environment is input from outside: every variable is validated where it enters,
 * and a bad value is reported (once, by applyEnvironment) and left at its default.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEnvConfig } from '../../runtime-probe/src/config.js';
import { DEFAULT_CONFIG } from '../../runtime-probe/src/runtime.js';

describe('the probe environment', () => {
  it('accepts good values', () => {
    const { config, problems } = parseEnvConfig(
      {
        LOCKSCOPE_STACKS: 'off',
        LOCKSCOPE_STACK_DEPTH: '8',
        LOCKSCOPE_FAIL_FAST: '1',
        LOCKSCOPE_HOLD_WARN_MS: '0',
        LOCKSCOPE_LOSSLESS: '1',
      },
      DEFAULT_CONFIG,
    );
    assert.deepEqual(problems, []);
    assert.equal(config.stacks, 'off');
    assert.equal(config.stackDepth, 8);
    assert.equal(config.failFast, true);
    assert.equal(config.holdWarnMs, 0);
  });

  it('reports each bad value and keeps the default', () => {
    const { config, problems } = parseEnvConfig(
      {
        LOCKSCOPE_STACK_DEPTH: '0',
        LOCKSCOPE_FAIL_FAST: 'yes',
        LOCKSCOPE_LOSSLESS: 'always',
        LOCKSCOPE_ENDPOINT: '/tmp/x.sock',
        // Past what a timer can wait: Node would fire the watchdog every millisecond.
        LOCKSCOPE_HOLD_WARN_MS: String(2 ** 31),
      },
      DEFAULT_CONFIG,
    );
    assert.equal(config.stackDepth, DEFAULT_CONFIG.stackDepth);
    assert.equal(config.holdWarnMs, DEFAULT_CONFIG.holdWarnMs);
    assert.equal(config.failFast, DEFAULT_CONFIG.failFast);
    assert.deepEqual(problems, [
      'LOCKSCOPE_STACK_DEPTH must be an integer from 1 to 64, got "0"',
      'LOCKSCOPE_HOLD_WARN_MS must be a whole number of milliseconds from 0 to 86400000, got "2147483648"',
      'LOCKSCOPE_FAIL_FAST must be 1 or 0, got "yes"',
      'LOCKSCOPE_LOSSLESS must be 1 or 0, got "always"',
      'LOCKSCOPE_ENDPOINT is set without LOCKSCOPE_TOKEN; the collector will refuse the connection',
    ]);
  });
});
