/**
 * The two interfaces of async-mutex, declared as it declares them: an interface merged with a
 * namespace that holds its `Releaser` and `Worker` types, so that code written against
 * `MutexInterface.Releaser` compiles unchanged against this module.
 */

export interface MutexInterface {
  acquire(priority?: number): Promise<MutexInterface.Releaser>;
  runExclusive<T>(callback: MutexInterface.Worker<T>, priority?: number): Promise<T>;
  waitForUnlock(priority?: number): Promise<void>;
  isLocked(): boolean;
  release(): void;
  cancel(): void;
}

// A namespace of types only, as async-mutex has it: its users name `MutexInterface.Releaser`.
// eslint-disable-next-line @typescript-eslint/no-namespace -- the shape of the API being matched.
export declare namespace MutexInterface {
  interface Releaser {
    (): void;
  }
  interface Worker<T> {
    (): Promise<T> | T;
  }
}

export interface SemaphoreInterface {
  acquire(weight?: number, priority?: number): Promise<[number, SemaphoreInterface.Releaser]>;
  runExclusive<T>(
    callback: SemaphoreInterface.Worker<T>,
    weight?: number,
    priority?: number,
  ): Promise<T>;
  waitForUnlock(weight?: number, priority?: number): Promise<void>;
  isLocked(): boolean;
  getValue(): number;
  setValue(value: number): void;
  release(weight?: number): void;
  cancel(): void;
}

// As for MutexInterface: `SemaphoreInterface.Releaser` and `SemaphoreInterface.Worker` are names
// its users write.
// eslint-disable-next-line @typescript-eslint/no-namespace -- the shape of the API being matched.
export declare namespace SemaphoreInterface {
  interface Releaser {
    (): void;
  }
  interface Worker<T> {
    (value: number): Promise<T> | T;
  }
}
