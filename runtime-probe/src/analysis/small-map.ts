/**
 * A map for the few entries a lock's holders or a task's holds usually are, in two arrays with
 * swap-removal. A `Map` that goes from one entry to none and back on every acquisition shrinks
 * and regrows its table each time, which V8 does by allocating: measured, that churn was half of
 * the analysis's time. Lookups are linear, which is what a handful of entries wants.
 */
export class SmallMap<K, V> {
  readonly #keys: K[] = [];
  readonly #values: V[] = [];

  get size(): number {
    return this.#keys.length;
  }

  get(key: K): V | undefined {
    const i = this.#keys.indexOf(key);
    return i < 0 ? undefined : this.#values[i];
  }

  has(key: K): boolean {
    return this.#keys.includes(key);
  }

  set(key: K, value: V): this {
    const i = this.#keys.indexOf(key);
    if (i >= 0) this.#values[i] = value;
    else {
      this.#keys.push(key);
      this.#values.push(value);
    }
    return this;
  }

  delete(key: K): boolean {
    const i = this.#keys.indexOf(key);
    if (i < 0) return false;
    const last = this.#keys.length - 1;
    this.#keys[i] = this.#keys[last]!;
    this.#values[i] = this.#values[last]!;
    this.#keys.pop();
    this.#values.pop();
    return true;
  }

  /** The keys, as a copy: callers may change the map while they go through them. */
  keys(): K[] {
    return this.#keys.slice();
  }

  /** The entries, as a copy. */
  entries(): [K, V][] {
    return this.#keys.map((k, i) => [k, this.#values[i]!]);
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries()[Symbol.iterator]();
  }
}
