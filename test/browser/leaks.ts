/**
 * A page script that keeps account of what is registered outside the page's elements: listeners
 * on `window`, `document` and media queries (those removed by an abort signal too), timers,
 * animation frames and resize observers. Installed before any of the page's own scripts, it lets
 * a test check that a view's `destroy()` takes down everything the view added.
 */

/** What is still registered, as `leakReport()` in the page returns it. */
export interface Registered {
  /** `target type` for each listener still attached, sorted. */
  listeners: string[];
  timers: number;
  frames: number;
  observers: number;
}

export const LEAK_TRACKER = `(() => {
  const ours = () => /\\/main\\.js:/.test(new Error().stack ?? '');
  const listeners = new Map();
  const name = (target) =>
    target === window ? 'window' : target === document ? 'document'
      : target instanceof MediaQueryList ? 'media' : undefined;
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  const capture = (o) => (typeof o === 'boolean' ? o : Boolean(o && o.capture));
  const keys = new WeakMap();
  const keyOf = (target, type, fn, o) => {
    let ids = keys.get(fn);
    if (!ids) keys.set(fn, (ids = new Map()));
    const k = name(target) + ' ' + type + ' ' + capture(o);
    if (!ids.has(k)) ids.set(k, Symbol(k));
    return ids.get(k);
  };
  EventTarget.prototype.addEventListener = function (type, fn, o) {
    const n = name(this);
    if (n && fn && ours()) {
      const key = keyOf(this, type, fn, o);
      const signal = o && typeof o === 'object' ? o.signal : undefined;
      if (!signal || !signal.aborted) {
        listeners.set(key, n + ' ' + type);
        signal?.addEventListener('abort', () => listeners.delete(key));
      }
    }
    return add.call(this, type, fn, o);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, o) {
    if (name(this) && fn) listeners.delete(keyOf(this, type, fn, o));
    return remove.call(this, type, fn, o);
  };
  const timers = new Set();
  const setT = window.setTimeout, clearT = window.clearTimeout;
  window.setTimeout = (fn, ms, ...args) => {
    const id = setT(() => { timers.delete(id); if (typeof fn === 'function') fn(...args); }, ms);
    if (ours()) timers.add(id);
    return id;
  };
  window.clearTimeout = (id) => { timers.delete(id); clearT(id); };
  const setI = window.setInterval, clearI = window.clearInterval;
  window.setInterval = (...a) => { const id = setI(...a); if (ours()) timers.add(id); return id; };
  window.clearInterval = (id) => { timers.delete(id); clearI(id); };
  const frames = new Set();
  const raf = window.requestAnimationFrame, caf = window.cancelAnimationFrame;
  window.requestAnimationFrame = (fn) => {
    const id = raf((t) => { frames.delete(id); fn(t); });
    if (ours()) frames.add(id);
    return id;
  };
  window.cancelAnimationFrame = (id) => { frames.delete(id); caf(id); };
  const observers = new Set();
  const RO = window.ResizeObserver;
  window.ResizeObserver = class extends RO {
    observe(...a) { if (ours()) observers.add(this); return super.observe(...a); }
    disconnect() { observers.delete(this); return super.disconnect(); }
  };
  window.leakReport = () => ({
    listeners: [...listeners.values()].sort(),
    timers: timers.size,
    frames: frames.size,
    observers: observers.size,
  });
})();`;
