/**
 * Tables of 32-bit counters in shared memory, which reach other threads through `worker_threads`
 * environment data or messages: the delivery ledgers and the table of thread lifetimes.
 */
export function newSharedTable(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}

/** Whether a value another thread passed is such a table, of the expected length. */
export function isSharedTable(value: unknown, length: number): value is Int32Array {
  return (
    value instanceof Int32Array &&
    value.buffer instanceof SharedArrayBuffer &&
    value.length === length
  );
}
