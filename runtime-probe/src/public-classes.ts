/**
 * One class identity across copies of the package. A process can load both builds of lockscope
 * (a dependency that requires it beside a program that imports it), and each build defines its
 * own classes. So that `lock instanceof Mutex` holds whichever copy made the lock, each public
 * class marks its prototype with a registered symbol (the same in every copy) and answers
 * `instanceof` by that mark. Errors do the same in errors.ts. A subclass a user writes keeps the
 * ordinary `instanceof`.
 */
import { Barrier } from './primitives/barrier.js';
import { Channel } from './primitives/channel.js';
import { Condition } from './primitives/condition.js';
import { Event } from './primitives/event.js';
import { Guard } from './primitives/guard.js';
import { Mutex } from './primitives/mutex.js';
import { ReentrantMutex } from './primitives/reentrant.js';
import { RWLock } from './primitives/rwlock.js';
import { Semaphore } from './primitives/semaphore.js';
import { Task } from './primitives/task.js';
import { Timer } from './primitives/timer.js';
import { WaitGroup } from './primitives/waitgroup.js';
import { SharedBarrier } from './shared/barrier.js';
import { SharedCondition } from './shared/condition.js';
import { SharedGuard } from './shared/guard.js';
import { SharedMutex } from './shared/mutex.js';
import { Future, WorkerPool } from './shared/pool.js';
import { SharedSemaphore } from './shared/semaphore.js';
import { Worker } from './shared/worker.js';

const MARK = Symbol.for('lockscope.class.v1');
const ordinary = Function.prototype[Symbol.hasInstance];

function shareIdentity(cls: abstract new (...args: never[]) => object, name: string): void {
  if (Object.hasOwn(cls, Symbol.hasInstance)) return;
  Object.defineProperty(cls.prototype, MARK, { value: name });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      // Inherited by a user's subclass, which must not claim every instance of the base.
      if (this !== cls) return ordinary.call(this, value);
      if (typeof value === 'object' && value !== null) {
        if ((value as { [MARK]?: unknown })[MARK] === name) return true;
      }
      return ordinary.call(this, value);
    },
  });
}

// Named here rather than by `cls.name`, which a bundler that renames classes would change.
const PUBLIC_CLASSES: [abstract new (...args: never[]) => object, string][] = [
  [Mutex, 'Mutex'],
  [ReentrantMutex, 'ReentrantMutex'],
  [RWLock, 'RWLock'],
  [Semaphore, 'Semaphore'],
  [Condition, 'Condition'],
  [Event, 'Event'],
  [Barrier, 'Barrier'],
  [WaitGroup, 'WaitGroup'],
  [Channel, 'Channel'],
  [Task, 'Task'],
  [Timer, 'Timer'],
  [Guard, 'Guard'],
  [SharedMutex, 'SharedMutex'],
  [SharedGuard, 'SharedGuard'],
  [SharedCondition, 'SharedCondition'],
  [SharedSemaphore, 'SharedSemaphore'],
  [SharedBarrier, 'SharedBarrier'],
  [Worker, 'Worker'],
  [WorkerPool, 'WorkerPool'],
  [Future, 'Future'],
];
/** Marks every public class; index.ts calls it once, as it loads. */
export function sharePublicClassIdentities(): void {
  for (const [cls, name] of PUBLIC_CLASSES) shareIdentity(cls, name);
}
