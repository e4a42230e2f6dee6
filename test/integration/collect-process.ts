/**
 * `lockscope collect` in a child process, for the tests: its output as it comes, a way to wait
 * for a line of it, and the environment it printed for programs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';
import { NODE } from './run-program.js';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'runtime-probe', 'bin', 'lockscope.cjs');

export class Collect {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(NODE, [bin, 'collect', ...args], { cwd: root });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((done) => this.child.on('close', done));
  }

  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const m = pattern.exec(this.stderr);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`no ${String(pattern)} in: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The environment it printed for programs. */
  async env(): Promise<Record<string, string>> {
    await this.waitFor(/Ctrl\+C ends the session/);
    const env: Record<string, string> = {};
    for (const m of this.stderr.matchAll(/^ {2}(LOCKSCOPE_\w+)=(\S+)$/gm)) env[m[1]!] = m[2]!;
    return env;
  }
}
