/**
 * Shared-memory primitives cross threads as plain data: `postMessage` and `workerData` clone
 * objects without their classes, but share a SharedArrayBuffer. So each shared primitive has a
 * handle, a plain object with a kind tag, its buffer, name and resource id, from which any thread
 * makes a working instance again (`SharedMutex.from(handle)`).
 */
import type { ResourceRec } from '../runtime.js';
import { newResource, type ResourceOptions } from '../sync.js';

export interface SharedHandle {
  lockscopeShared: string;
  buffer: SharedArrayBuffer;
  id: number;
  name: string;
  cls: string;
}

export function isHandle(value: unknown, kind: string): value is SharedHandle {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Partial<SharedHandle>;
  return (
    h.lockscopeShared === kind &&
    h.buffer instanceof SharedArrayBuffer &&
    typeof h.id === 'number' &&
    typeof h.name === 'string' &&
    typeof h.cls === 'string'
  );
}

/** The resource record for a new shared primitive, or the one its handle describes. */
export function sharedResource(
  kind: string,
  options: ResourceOptions | undefined,
  handle: SharedHandle | undefined,
  capacity?: number,
): ResourceRec {
  if (!handle) return newResource(kind, options, capacity);
  return {
    id: handle.id,
    kind,
    name: handle.name,
    cls: handle.cls,
    site: 0,
    capacity,
    policy: undefined,
    sentIn: -1,
  };
}

/** A handle that keeps the event loop alive while an Atomics.waitAsync is pending. */
export function keepAlive(): () => void {
  const timer = setInterval(() => {}, 2 ** 31 - 1);
  return () => clearInterval(timer);
}
