/**
 * What the extension contributes to VS Code, as data: the command ids and the settings with their
 * types and bounds. `package.json` declares the same (a unit test holds the two together), the
 * glue registers a handler for every command (a `Record` over the ids, so the compiler holds that
 * too), and every setting is read through `readSettings`, which applies the declared bounds. No
 * `vscode` import: tested on plain Node.
 */

export const COMMANDS = {
  runFile: 'lockscope.runFile',
  openExample: 'lockscope.openExample',
  showGraph: 'lockscope.showGraph',
  stop: 'lockscope.stop',
  showOutput: 'lockscope.showOutput',
  showProbeInfo: 'lockscope.showProbeInfo',
  stepThrough: 'lockscope.stepThrough',
  runFlowNext: 'lockscope.runFlowNext',
  openSchedule: 'lockscope.openSchedule',
  attach: 'lockscope.attach',
  detach: 'lockscope.detach',
} as const;
export type CommandName = keyof typeof COMMANDS;

/** The section every setting is under (`lockscope.nodePath`, ...). */
export const SETTINGS_SECTION = 'lockscope';

/** Each setting's type, default and, for a number, its bounds, as package.json declares them. */
export const SETTINGS = {
  nodePath: { type: 'string', default: '' },
  terminalEnvironment: { type: 'boolean', default: false },
  // The Analyzer's time line keeps at most 200,000 intervals; the panel plays back this many of
  // the most recent, and the session keeps as many.
  playbackIntervals: { type: 'integer', default: 20_000, minimum: 1_000, maximum: 200_000 },
} as const;

export type SettingName = keyof typeof SETTINGS;

/** Each setting's value, typed from its declaration. */
export type Settings = {
  -readonly [N in SettingName]: (typeof SETTINGS)[N]['default'] extends boolean
    ? boolean
    : (typeof SETTINGS)[N]['default'] extends string
      ? string
      : number;
};

type Spec = { type: string; minimum?: number; maximum?: number };

/** Whether `v` is a value of the declared type, within its bounds. */
function fits(spec: Spec, v: unknown): boolean {
  if (spec.type === 'integer') {
    return (
      Number.isInteger(v) &&
      (spec.minimum === undefined || (v as number) >= spec.minimum) &&
      (spec.maximum === undefined || (v as number) <= spec.maximum)
    );
  }
  return typeof v === spec.type;
}

/**
 * Reads every setting through `get` (VS Code's configuration, or a test's map): a value of the
 * wrong type or out of bounds is replaced by the default, and said in `problems`.
 */
export function readSettings(get: (name: SettingName) => unknown): {
  settings: Settings;
  problems: string[];
} {
  const problems: string[] = [];
  const settings: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const spec = SETTINGS[name];
    const v = get(name);
    if (v === undefined || fits(spec, v)) {
      settings[name] = v ?? spec.default;
      continue;
    }
    settings[name] = spec.default;
    problems.push(
      `${SETTINGS_SECTION}.${name}: ${JSON.stringify(v)} is not ${expected(name)}; ` +
        `using ${JSON.stringify(spec.default)}`,
    );
  }
  return { settings: settings as Settings, problems };
}

function expected(name: SettingName): string {
  const s: Spec = SETTINGS[name];
  if (s.minimum !== undefined && s.maximum !== undefined) {
    return `an ${s.type} from ${s.minimum} to ${s.maximum}`;
  }
  return `a ${s.type}`;
}
