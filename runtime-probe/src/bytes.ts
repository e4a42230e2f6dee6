/**
 * JSON written straight into bytes. A batch's events line is mostly small integers and a few
 * fixed keys, and building it as a string cost more than recording the events did: the pieces
 * were garbage, the string was flattened, and a sink encoded it to UTF-8 again. Here integers are
 * written as ASCII digits into one growing byte array that the writer keeps from batch to batch,
 * so a batch allocates nothing once the array is large enough.
 */

const encoder = new TextEncoder();

/** `s` in UTF-8, in a byte array of its own (one that can be transferred to another thread). */
export function utf8(s: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(s);
}

/** One JSON Lines line of `value`, in bytes of its own (a sink's control messages). */
export function jsonLine(value: unknown): Uint8Array<ArrayBuffer> {
  return utf8(JSON.stringify(value) + '\n');
}

export class ByteWriter {
  #bytes: Uint8Array;
  #data: DataView | undefined;
  /** How many bytes are written. */
  length = 0;

  constructor(initial = 64 * 1024) {
    this.#bytes = new Uint8Array(initial);
  }

  /** Makes room for `n` more bytes. */
  #room(n: number): Uint8Array {
    const need = this.length + n;
    if (need > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.#bytes.length * 2));
      grown.set(this.#bytes.subarray(0, this.length));
      this.#bytes = grown;
      this.#data = undefined;
    }
    return this.#bytes;
  }

  /**
   * Makes room for `n` more bytes and returns the array to write them into, from `length` on; the
   * caller sets `length` past what it wrote. For loops that write many small parts at once.
   */
  reserve(n: number): Uint8Array {
    return this.#room(n);
  }

  /** A DataView of the array `reserve()` returned, for `putPart`. */
  dataView(): DataView {
    return (this.#data ??= new DataView(this.#bytes.buffer));
  }

  /** Appends bytes (the fixed parts of a line, made once by `utf8()`). */
  raw(part: Uint8Array): void {
    this.#room(part.length).set(part, this.length);
    this.length += part.length;
  }

  /**
   * Appends a number as JSON writes it: an integer by `putUint`, with its sign; anything else
   * through `String` (JSON has no Infinity or NaN: `null`).
   */
  number(x: number): void {
    if (!Number.isSafeInteger(x)) {
      this.text(Number.isFinite(x) ? String(x) : 'null');
      return;
    }
    const bytes = this.#room(17);
    let at = this.length;
    if (x < 0) bytes[at++] = 45; // '-'
    this.length = putUint(bytes, at, Math.abs(x));
  }

  /** Appends text, UTF-8 encoded (registry lines, whose names may be any text). */
  text(s: string): void {
    const bytes = this.#room(s.length * 3);
    this.length += encoder.encodeInto(s, bytes.subarray(this.length)).written;
  }

  /**
   * The bytes written since `reset()`: a view of the writer's own array, valid until it is next
   * written to. A caller that keeps them copies them (`slice()`).
   */
  view(): Uint8Array {
    return this.#bytes.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}

/** Powers of ten, to count an integer's digits before writing them from the last. */
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** "00" to "99" as ASCII pairs: two digits per division. */
const PAIRS = utf8(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''));

/**
 * Writes `v`, a non-negative safe integer, as decimal digits into `b` at `at`, and returns where
 * it ends. Digits go two at a time from the last; below 2^31 they come from integer division,
 * which is several times cheaper than the floating-point division larger numbers need.
 */
export function putUint(b: Uint8Array, at: number, v: number): number {
  let digits = 1;
  while (digits < 16 && v >= POW10[digits]!) digits++;
  const end = at + digits;
  let p = end;
  let x = v;
  while (x >= 0x80000000) {
    const q = Math.floor(x / 100);
    const r = (x - q * 100) * 2;
    b[--p] = PAIRS[r + 1]!;
    b[--p] = PAIRS[r]!;
    x = q;
  }
  let y = x | 0;
  while (y >= 100) {
    const q = (y / 100) | 0;
    const r = (y - q * 100) * 2;
    b[--p] = PAIRS[r + 1]!;
    b[--p] = PAIRS[r]!;
    y = q;
  }
  if (y >= 10) {
    b[--p] = PAIRS[y * 2 + 1]!;
    b[--p] = PAIRS[y * 2]!;
  } else b[--p] = 48 + y;
  return end;
}

/**
 * A fixed part of a line (a key, an operation's name), kept as 32-bit words: written four bytes
 * at a time, it costs less than half of a byte-by-byte copy.
 */
export interface Part {
  words: Int32Array;
  tail: Uint8Array;
  length: number;
}

export function part(s: string | Uint8Array): Part {
  const bytes = typeof s === 'string' ? utf8(s) : s.slice();
  const whole = bytes.length - (bytes.length % 4);
  const view = new DataView(bytes.buffer);
  const words = new Int32Array(whole / 4);
  for (let i = 0; i < words.length; i++) words[i] = view.getInt32(i * 4, true);
  return { words, tail: bytes.slice(whole), length: bytes.length };
}

/** Writes `p` into `b` (seen also as `view`) at `at`, and returns where it ends. */
export function putPart(view: DataView, b: Uint8Array, at: number, p: Part): number {
  const { words, tail } = p;
  let a = at;
  for (let i = 0; i < words.length; i++, a += 4) view.setInt32(a, words[i]!, true);
  for (let i = 0; i < tail.length; i++) b[a + i] = tail[i]!;
  return at + p.length;
}
