/**
 * What can be known of another process by its pid, for the cleanup that `lockscope run` and the
 * collector do: whether it exists, when it started (so that a reused pid is not taken for the
 * process that had it), and whether a process group still has a running member. Linux answers
 * from /proc; elsewhere only kill(pid, 0) is asked, which cannot tell a reused pid or a zombie.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The fields of /proc/<pid>/stat that the cleanup needs. */
export interface ProcStat {
  /** One letter: R running, S sleeping, Z zombie, X dead, ... */
  state: string;
  /** The process group. */
  pgrp: number;
  /** The start time in clock ticks since boot: with the pid, it names one process. */
  start: string;
}

/** States of a process that runs nothing any more and only waits for its parent to collect it. */
const ENDED = new Set(['Z', 'X', 'x']);

/**
 * Parses the text of /proc/<pid>/stat (proc(5)). The command name, field 2, may hold spaces and
 * parentheses, so the other fields are counted from its last closing parenthesis. Pure.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // Field 3 is the state, 5 the process group and 22 the start time; fields[0] is field 3.
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const start = fields[19];
  if (!state || !Number.isInteger(pgrp) || start === undefined || !/^\d+$/.test(start)) {
    return undefined;
  }
  return { state, pgrp, start };
}

/** The stat of a process on Linux; undefined elsewhere, or when there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** True unless the system says there is no such process (EPERM means another user's process). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * What the system says of a pid now, from one reading of its stat: whether it runs (it exists
 * and, where the system tells, is not a zombie) and when it started.
 */
export function pidNow(pid: number): { running: boolean; start: string | undefined } {
  const stat = procStat(pid);
  return { running: processExists(pid) && !(stat && ENDED.has(stat.state)), start: stat?.start };
}

/**
 * The pid namespace this process sees, on Linux: pids seen from another namespace (another
 * container sharing the temporary folder) say nothing here.
 */
export function pidNamespace(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/**
 * True while a member of the process group `pgid` still runs. A member that has ended but that
 * its parent has not yet collected (a zombie) still counts for kill(); an orphan's new parent
 * may collect it late, or never when the container's first process does not, so on Linux the
 * members are looked up in /proc and zombies are left out.
 */
export function groupRunning(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (process.platform !== 'linux') return true;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat && stat.pgrp === pgid && !ENDED.has(stat.state)) return true;
  }
  return false;
}
