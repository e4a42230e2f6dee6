/**
 * The toolbar: the playback controls (live or paused, step back, play, step forward, back to live),
 * the moment shown and its event number, the speed, the tabs (wait-for graph, lock order), the
 * search box and Fit. It only shows state and reports clicks; the app decides what they do.
 */
import { el, formatTime, icon } from './common.js';
import type { Model } from '../model/model.js';

export interface ToolbarOptions {
  /** `live`: a session that streams; `static`: a finished report (the HTML page). */
  mode: 'live' | 'static';
  onPause(): void;
  onLive(): void;
  onStep(direction: -1 | 1): void;
  onStart(): void;
  onPlay(): void;
  onSpeed(speed: number): void;
  onTab(tab: 'wait-for' | 'lock-order'): void;
  onSearch(query: string): void;
  onSearchNext(): void;
  onFit(): void;
}

export interface ToolbarState {
  paused: boolean;
  playing: boolean;
  time: number;
  end: number;
  /** While paused: how many events are at or before the moment, out of how many. */
  event?: number;
  events?: number;
  intervals: number;
  /** Reports received while paused, not yet shown. */
  waiting: number;
  live: boolean;
  speed: number;
  tab: 'wait-for' | 'lock-order';
  matches: number | undefined;
}

/** Playback speeds, as multiples of real time. */
export const SPEEDS = [0.001, 0.01, 0.1, 1, 10];

const ICONS = {
  start: 'M3.5 3v10M13 3.2v9.6L5.5 8z',
  back: 'M12.5 3.2v9.6L5 8zM3.5 3v10',
  play: 'M4.5 2.8v10.4L13 8z',
  pause: 'M4.5 3h2.5v10H4.5zM9 3h2.5v10H9z',
  forward: 'M3.5 3.2v9.6L11 8zM12.5 3v10',
  live: 'M2.5 3.2v9.6L8 8zM8 3.2v9.6L13.5 8z',
  search: 'M6.5 2.5a4 4 0 1 0 0 8a4 4 0 1 0 0-8M9.5 9.5l4 4',
  fit: 'M2.5 6V2.5H6M10 2.5h3.5V6M13.5 10v3.5H10M6 13.5H2.5V10',
};

export class Toolbar {
  readonly element: HTMLElement;
  readonly search: HTMLInputElement;
  readonly #options: ToolbarOptions;
  readonly #status: HTMLButtonElement;
  readonly #start: HTMLButtonElement;
  readonly #back: HTMLButtonElement;
  readonly #play: HTMLButtonElement;
  readonly #forward: HTMLButtonElement;
  readonly #live: HTMLButtonElement;
  readonly #time: HTMLSpanElement;
  readonly #event: HTMLSpanElement;
  readonly #speed: HTMLSelectElement;
  readonly #tabs: Record<'wait-for' | 'lock-order', HTMLButtonElement>;
  readonly #matches: HTMLSpanElement;
  #last = '';

  constructor(parent: HTMLElement, options: ToolbarOptions) {
    this.#options = options;
    this.element = parent.appendChild(el('header', 'ls-toolbar'));
    this.element.setAttribute('role', 'toolbar');
    this.element.setAttribute('aria-label', 'Playback');
    const live = options.mode === 'live';

    const controls = this.element.appendChild(el('div', 'ls-controls'));
    this.#status = controls.appendChild(el('button', 'ls-status'));
    this.#status.type = 'button';
    this.#status.addEventListener('click', () =>
      this.#status.classList.contains('live') ? options.onPause() : options.onLive(),
    );
    this.#start = button(controls, ICONS.start, 'Go to the start of the retained window (Home)');
    this.#start.addEventListener('click', () => options.onStart());
    this.#back = button(controls, ICONS.back, 'Step back one event (←)');
    this.#back.addEventListener('click', () => options.onStep(-1));
    this.#play = button(controls, ICONS.play, 'Play (Space)');
    this.#play.addEventListener('click', () => options.onPlay());
    this.#forward = button(controls, ICONS.forward, 'Step forward one event (→)');
    this.#forward.addEventListener('click', () => options.onStep(1));
    this.#live = button(
      controls,
      ICONS.live,
      live ? 'Return to live (End)' : 'Go to the end of the report (End)',
    );
    this.#live.addEventListener('click', () => options.onLive());

    const clock = this.element.appendChild(el('div', 'ls-clock'));
    this.#time = clock.appendChild(el('span', 'ls-time'));
    this.#event = clock.appendChild(el('span', 'ls-event'));
    this.#speed = clock.appendChild(el('select', 'ls-speed'));
    this.#speed.title = 'Playback speed, as a multiple of real time';
    this.#speed.setAttribute('aria-label', 'Playback speed');
    for (const s of SPEEDS) {
      const o = el('option', undefined, `${s}×`);
      o.value = String(s);
      this.#speed.append(o);
    }
    this.#speed.addEventListener('change', () => options.onSpeed(Number(this.#speed.value)));

    this.element.appendChild(el('div', 'ls-spacer'));

    const tabs = this.element.appendChild(el('div', 'ls-tabs'));
    tabs.setAttribute('role', 'tablist');
    const tab = (id: 'wait-for' | 'lock-order', label: string): HTMLButtonElement => {
      const b = tabs.appendChild(el('button', 'ls-tab', label));
      b.type = 'button';
      b.setAttribute('role', 'tab');
      b.addEventListener('click', () => options.onTab(id));
      return b;
    };
    this.#tabs = {
      'wait-for': tab('wait-for', 'Wait-for'),
      'lock-order': tab('lock-order', 'Lock order'),
    };

    const search = this.element.appendChild(el('label', 'ls-search'));
    search.append(icon(ICONS.search));
    this.search = search.appendChild(el('input'));
    this.search.type = 'search';
    this.search.placeholder = 'Filter by name';
    this.search.setAttribute('aria-label', 'Filter tasks and resources by name');
    this.search.addEventListener('input', () => options.onSearch(this.search.value));
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') options.onSearchNext();
      if (e.key === 'Escape') {
        this.search.value = '';
        options.onSearch('');
      }
    });
    this.#matches = search.appendChild(el('span', 'ls-matches'));
    const fit = button(this.element, ICONS.fit, 'Fit the graph in view (F)', false);
    fit.addEventListener('click', () => options.onFit());
  }

  update(s: ToolbarState): void {
    const key = JSON.stringify(s);
    if (key === this.#last) return;
    this.#last = key;
    const liveMode = this.#options.mode === 'live';
    const following = !s.paused;
    this.#status.className = `ls-status ${following ? (s.live ? 'live' : 'end') : 'paused'}`;
    this.#status.textContent = following ? (s.live ? 'Live' : 'End') : 'Paused';
    this.#status.title = following
      ? s.live
        ? 'Following the session as it runs; click to pause'
        : 'Showing the end of the report'
      : liveMode
        ? 'Paused: click to return to live'
        : 'Click to go to the end';
    if (s.waiting > 0) {
      this.#status.append(el('span', 'ls-waiting', String(s.waiting)));
      this.#status.title += ` (${s.waiting} updates arrived while paused)`;
    }
    const atStart = s.event !== undefined && s.event <= 1;
    const atEnd = s.time >= s.end;
    this.#start.disabled = atStart;
    this.#back.disabled = atStart;
    this.#forward.disabled = atEnd;
    this.#live.disabled = following;
    const playIcon = s.playing ? ICONS.pause : ICONS.play;
    this.#play.replaceChildren(icon(playIcon, true));
    this.#play.title = s.playing ? 'Pause (Space)' : 'Play from here (Space)';
    this.#play.setAttribute('aria-label', this.#play.title);
    this.#time.textContent = formatTime(s.time);
    this.#time.title = `${s.time} µs since the start of the time line`;
    this.#event.textContent =
      s.event === undefined
        ? ` / ${formatTime(s.end)} · ${s.intervals} intervals`
        : ` / ${formatTime(s.end)} · event ${s.event} of ${s.events}`;
    this.#speed.value = String(s.speed);
    for (const [id, b] of Object.entries(this.#tabs)) {
      const on = id === s.tab;
      b.classList.toggle('active', on);
      b.setAttribute('aria-selected', String(on));
    }
    this.#matches.textContent =
      s.matches === undefined ? '' : s.matches === 1 ? '1 match' : `${s.matches} matches`;
  }
}

function button(
  parent: HTMLElement,
  path: string,
  title: string,
  filled = true,
): HTMLButtonElement {
  const b = parent.appendChild(el('button', 'ls-icon-button'));
  b.type = 'button';
  b.title = title;
  b.setAttribute('aria-label', title);
  b.append(icon(path, filled));
  return b;
}

/** The playback plays the retained window in about this many seconds at the default speed. */
const PLAY_SECONDS = 12;

/** The speed that plays the model's retained window in about PLAY_SECONDS. */
export function defaultSpeed(m: Model): number {
  const span = (m.last - m.first) / 1e6;
  const wanted = span / PLAY_SECONDS;
  let best = SPEEDS[0]!;
  for (const s of SPEEDS)
    if (Math.abs(Math.log(s / wanted)) < Math.abs(Math.log(best / wanted))) best = s;
  return best;
}
