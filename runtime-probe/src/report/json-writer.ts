/**
 * JSON written in pieces as it is made, byte for byte what `JSON.stringify(value, null, indent)`
 * gives: a report with hundreds of thousands of intervals never becomes one giant string. The top
 * levels of the value are walked here; each small leaf (an interval, a finding) is stringified
 * whole.
 */

/** Below this depth containers are walked; at it and deeper they are stringified whole. */
const WALK_DEPTH = 3;

export interface JsonOptions {
  /** Spaces per level, as JSON.stringify's third argument (0 for one line). */
  indent?: number;
  /**
   * Every `<` written as `\u003c`, which JSON.parse reads back as `<`: JSON that sits inside an
   * HTML `<script>` element, where no string in it can close the element.
   */
  escapeLt?: boolean;
}

export function writeJson(
  value: unknown,
  write: (piece: string) => void,
  options: JsonOptions = {},
): void {
  const indent = options.indent ?? 0;
  const out = options.escapeLt ? (s: string) => write(s.replace(/</g, '\\u003c')) : write;
  const pad = (depth: number): string => (indent ? '\n' + ' '.repeat(indent * depth) : '');
  const colon = indent ? ': ' : ':';
  const leaf = (v: unknown, depth: number): string => {
    const s = JSON.stringify(v, null, indent);
    return indent && s.includes('\n') ? s.replace(/\n/g, pad(depth)) : s;
  };
  const emit = (v: unknown, depth: number): void => {
    if (depth >= WALK_DEPTH || v === null || typeof v !== 'object') {
      out(leaf(v, depth) ?? 'null');
      return;
    }
    // Arrays, and other iterables as arrays: a list made as it is written is never held whole.
    if (Array.isArray(v) || Symbol.iterator in v) {
      let i = 0;
      for (const x of v as Iterable<unknown>) {
        out((i++ ? ',' : '[') + pad(depth + 1));
        // JSON.stringify writes null for an array element it cannot represent.
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') out('null');
        else emit(x, depth + 1);
      }
      return out(i ? pad(depth) + ']' : '[]');
    }
    const entries = Object.entries(v).filter(
      ([, x]) => x !== undefined && typeof x !== 'function' && typeof x !== 'symbol',
    );
    if (entries.length === 0) return out('{}');
    out('{');
    entries.forEach(([k, x], i) => {
      out((i ? ',' : '') + pad(depth + 1) + JSON.stringify(k) + colon);
      emit(x, depth + 1);
    });
    out(pad(depth) + '}');
  };
  emit(value, 0);
}
