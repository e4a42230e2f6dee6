/**
 * A small Go-style layer over lockscope, the kind of helper module a team writes once: `go`
 * starts a goroutine, `lock`/`unlock` take and give back a mutex, `wait` joins.
 *
 * The examples' package.json marks this folder as library code (`"lockscope": { "library":
 * ["lib/**"] }`), so a finding's sites skip these frames and land on the lines that call them.
 */
import { Mutex, spawn, type MutexGuard, type Task } from 'lockscope';

const guards = new WeakMap<Mutex, MutexGuard>();

export function go(name: string, body: () => Promise<void>): Task<void> {
  return spawn(name, body);
}

export async function lock(m: Mutex): Promise<void> {
  guards.set(m, await m.acquire());
}

export function unlock(m: Mutex): void {
  guards.get(m)?.release();
  guards.delete(m);
}

export async function wait(...tasks: Task<void>[]): Promise<void> {
  for (const t of tasks) await t.join();
}
