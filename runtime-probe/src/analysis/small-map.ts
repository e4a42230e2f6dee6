/**
 * A map for the few entries a lock's holders or a task's holds usually are. A `Map` that goes from
 * one entry to none and back on every acquisition shrinks and regrows its table each time, which
 * V8 does by allocating: measured, that churn was half of the analysis's time. So the first entry
 * lives in two fields, the rest in two arrays with swap-removal, made only when a second entry
 * comes (a read-write lock's readers): a resource used once and dropped keeps no table at all.
 * Lookups are linear, which is what a handful of entries wants.
 */
export class SmallMap<K, V> {
  #k0: K | undefined = undefined;
  #v0: V | undefined = undefined;
  #has0 = false;
  #keys: K[] | undefined = undefined;
  #values: V[] | undefined = undefined;

  get size(): number {
    return (this.#has0 ? 1 : 0) + (this.#keys?.length ?? 0);
  }

  get(key: K): V | undefined {
    if (this.#has0 && this.#k0 === key) return this.#v0;
    const i = this.#keys ? this.#keys.indexOf(key) : -1;
    return i < 0 ? undefined : this.#values![i];
  }

  has(key: K): boolean {
    return (this.#has0 && this.#k0 === key) || (this.#keys?.includes(key) ?? false);
  }

  set(key: K, value: V): this {
    if (this.#has0 && this.#k0 === key) {
      this.#v0 = value;
      return this;
    }
    const i = this.#keys ? this.#keys.indexOf(key) : -1;
    if (i >= 0) this.#values![i] = value;
    else if (!this.#has0) {
      this.#k0 = key;
      this.#v0 = value;
      this.#has0 = true;
    } else {
      (this.#keys ??= []).push(key);
      (this.#values ??= []).push(value);
    }
    return this;
  }

  delete(key: K): boolean {
    if (this.#has0 && this.#k0 === key) {
      // The last array entry moves into the fields, so that the fields are always used first.
      const keys = this.#keys;
      if (keys?.length) {
        this.#k0 = keys.pop();
        this.#v0 = this.#values!.pop();
      } else {
        this.#k0 = undefined;
        this.#v0 = undefined;
        this.#has0 = false;
      }
      return true;
    }
    const keys = this.#keys;
    const i = keys ? keys.indexOf(key) : -1;
    if (i < 0) return false;
    const values = this.#values!;
    const last = keys!.length - 1;
    keys![i] = keys![last]!;
    values[i] = values[last]!;
    keys!.pop();
    values.pop();
    return true;
  }

  /** The keys, as a copy: callers may change the map while they go through them. */
  keys(): K[] {
    const out = this.#has0 ? [this.#k0 as K] : [];
    if (this.#keys) out.push(...this.#keys);
    return out;
  }

  /** The entries, as a copy. */
  entries(): [K, V][] {
    const out: [K, V][] = this.#has0 ? [[this.#k0 as K, this.#v0 as V]] : [];
    if (this.#keys)
      for (let i = 0; i < this.#keys.length; i++) out.push([this.#keys[i]!, this.#values![i]!]);
    return out;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries()[Symbol.iterator]();
  }
}
