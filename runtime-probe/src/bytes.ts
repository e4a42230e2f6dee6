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

export class ByteWriter {
  #bytes: Uint8Array;
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
    }
    return this.#bytes;
  }

  /** Appends bytes (the fixed parts of a line, made once by `utf8()`). */
  raw(part: Uint8Array): void {
    this.#room(part.length).set(part, this.length);
    this.length += part.length;
  }

  /** Appends one ASCII character. */
  char(code: number): void {
    this.#room(1)[this.length++] = code;
  }

  /**
   * Appends a number as JSON writes it. Integers (every number of an events line) are written
   * digit by digit; anything else goes through `String`.
   */
  number(x: number): void {
    if (!Number.isSafeInteger(x)) {
      this.text(Number.isFinite(x) ? String(x) : 'null');
      return;
    }
    const bytes = this.#room(18);
    let at = this.length;
    let v = x;
    if (v < 0) {
      bytes[at++] = 45; // '-'
      v = -v;
    }
    // Digits go in backwards at the end of their room, then move forward: no division per
    // digit twice, and no string.
    let digits = 0;
    do {
      const q = Math.floor(v / 10);
      bytes[at + 16 - digits] = 48 + (v - q * 10);
      v = q;
      digits++;
    } while (v > 0);
    bytes.copyWithin(at, at + 17 - digits, at + 17);
    this.length = at + digits;
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
