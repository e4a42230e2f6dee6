/**
 * The extension's manifest and its code agree: every command package.json declares is one the
 * extension registers (extension.ts registers a `Record` over COMMANDS, which the compiler holds
 * complete), every setting is read with the type, default and bounds package.json declares, and
 * the task type it declares has a provider.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import {
  COMMANDS,
  readSettings,
  SETTINGS,
  SETTINGS_SECTION,
  type SettingName,
} from '../../extension/src/contributions.js';

const root = resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  contributes: {
    commands: { command: string }[];
    menus: Record<string, { command: string }[]>;
    configuration: { properties: Record<string, Record<string, unknown>> };
    taskDefinitions?: { type: string }[];
  };
};

describe('the manifest and the extension', () => {
  test('declare the same commands, and the menus use only those', () => {
    const declared: string[] = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(declared, Object.values(COMMANDS).sort());
    const known = new Set<string>(declared);
    for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
      for (const item of items) assert.ok(known.has(item.command), `${menu}: ${item.command}`);
    }
  });

  test('declare the same settings, with the same types, defaults and bounds', () => {
    const declared = manifest.contributes.configuration.properties;
    assert.deepEqual(
      Object.keys(declared).sort(),
      Object.keys(SETTINGS)
        .map((name) => `${SETTINGS_SECTION}.${name}`)
        .sort(),
    );
    for (const [name, spec] of Object.entries(SETTINGS)) {
      const d = declared[`${SETTINGS_SECTION}.${name}`]!;
      const {
        type,
        default: value,
        minimum,
        maximum,
      } = spec as typeof spec & {
        minimum?: number;
        maximum?: number;
      };
      assert.deepEqual(
        [d.type, d.default, d.minimum, d.maximum],
        [type, value, minimum, maximum],
        name,
      );
    }
  });

  test('a task type is declared only with the provider that resolves it', () => {
    const source = readFileSync(resolve(root, 'extension/src/features/run.ts'), 'utf8');
    for (const { type } of manifest.contributes.taskDefinitions ?? []) {
      assert.ok(source.includes(`registerTaskProvider('${type}'`), type);
    }
  });
});

describe('readSettings', () => {
  const read = (values: Partial<Record<SettingName, unknown>>) =>
    readSettings((name) => values[name]);

  test('takes values within bounds, and defaults for those not set', () => {
    assert.deepEqual(read({ playbackIntervals: 1_000, nodePath: '/opt/node' }), {
      settings: { nodePath: '/opt/node', terminalEnvironment: false, playbackIntervals: 1_000 },
      problems: [],
    });
    assert.equal(read({ playbackIntervals: 200_000 }).settings.playbackIntervals, 200_000);
  });

  test('replaces a value of the wrong type or out of bounds by the default, and says so', () => {
    for (const bad of [999, 200_001, 1_500.5, '5000', null]) {
      const { settings, problems } = read({ playbackIntervals: bad });
      assert.equal(settings.playbackIntervals, SETTINGS.playbackIntervals.default, String(bad));
      assert.match(
        problems[0] ?? '',
        /lockscope\.playbackIntervals: .* is not an integer from 1000 to 200000/,
      );
    }
    const { settings, problems } = read({ terminalEnvironment: 'yes', nodePath: 7 });
    assert.deepEqual(settings, {
      nodePath: '',
      terminalEnvironment: false,
      playbackIntervals: 20_000,
    });
    assert.equal(problems.length, 2);
  });
});
