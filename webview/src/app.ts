/**
 * The view of a session or a report: the toolbar with playback, the wait-for graph (or the
 * lock-order graph), the details panel and the timeline, all showing one moment.
 *
 * Live, the moment is the end of the newest report. Paused, it is any moment of the retained
 * window: reports that arrive meanwhile are kept (only the newest) but not shown, so the picture
 * holds still while the user looks back, and returning to live shows the newest at once. The
 * picture at a moment is derived from the report's time line (model/picture.ts) and only changes
 * at the moments something happens, so it is computed once per such moment however many frames
 * show it.
 *
 * The VS Code webview (main.ts) and the standalone HTML report (report.ts) both build this; the
 * host differs only in how a site is opened and where the state is kept.
 */
import type { Report } from 'lockscope/report';
import type { DebugSnapshot, LockscopeDebug } from './debug.js';
import { Model } from './model/model.js';
import { pictureAt, type Picture } from './model/picture.js';
import { parseToWebview, type PackedTimeline, type Selected, type ViewState } from './protocol.js';
import { el } from './render/common.js';
import { DetailsView } from './render/details.js';
import { GraphView } from './render/graph.js';
import { clamp, dragSplitter, onShortcut, openSiteOnClick } from './app-input.js';
import { OrderGraphView } from './render/order-graph.js';
import { defaultSpeed, Toolbar } from './render/playback.js';
import { legend } from './render/legend.js';
import { readTheme, watchTheme } from './render/theme.js';
import { TimelineView } from './render/timeline.js';

export interface AppHost {
  openSource(site: { file: string; line: number; column?: number }): void;
  saveState(state: ViewState): void;
}

export interface AppOptions {
  /** `live`: a session that streams reports; `static`: one finished report. */
  mode: 'live' | 'static';
  /** `panel`: the view fills its window; `page`: a block in a longer page (wheel needs Ctrl). */
  layout: 'panel' | 'page';
  /** A state saved earlier, restored when the first report arrives. */
  state?: ViewState;
}

export class App {
  readonly element: HTMLDivElement;
  readonly #host: AppHost;
  readonly #options: AppOptions;
  readonly #toolbar: Toolbar;
  readonly #graph: GraphView;
  readonly #order: OrderGraphView;
  readonly #details: DetailsView;
  readonly #timeline: TimelineView;
  readonly #stage: HTMLDivElement;
  /** Says why the graph is empty, when it is. */
  readonly #note: HTMLParagraphElement;
  readonly #unwatch: () => void;
  readonly #resizer: ResizeObserver;

  #model: Model | undefined;
  #pending: { report: Report; live: boolean; packed: PackedTimeline | undefined } | undefined;
  #waiting = 0;
  #applied = 0;
  #paused = false;
  #time = 0;
  #playing = false;
  #playFrame = 0;
  #playLast = 0;
  #speed = 1;
  #speedChosen = false;
  #tab: 'wait-for' | 'lock-order' = 'wait-for';
  #search = '';
  #selected: Selected | undefined;
  #picture: Picture | undefined;
  #pictureKey = '';
  #restore: ViewState | undefined;
  #graphTransform: ViewState['graph'];
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** Removes the listeners this view added outside its own element, on `destroy()`. */
  readonly #listening = new AbortController();
  /** True once the user dragged the splitter: the timeline then keeps the height chosen. */
  #timelineSized = false;

  constructor(parent: HTMLElement, host: AppHost, options: AppOptions) {
    this.#host = host;
    this.#options = options;
    this.#restore = options.state;
    this.element = parent.appendChild(el('div', `ls-app ${options.layout}`));
    this.element.tabIndex = -1;
    const wheel = options.layout === 'panel' ? 'zoom' : 'ctrl';

    this.#toolbar = new Toolbar(this.element, {
      mode: options.mode,
      onPause: () => this.pause(),
      onLive: () => this.goLive(),
      onStep: (d) => this.step(d),
      onStart: () => this.seek(this.#model?.first ?? 0),
      onPlay: () => (this.#playing ? this.stopPlaying() : this.play()),
      onSpeed: (s) => {
        this.#speed = s;
        this.#speedChosen = true;
        this.#update();
      },
      onTab: (t) => this.#setTab(t),
      onSearch: (q) => this.#setSearch(q),
      onSearchNext: () => {
        const key = this.#graph.revealNextMatch();
        if (key) this.select({ kind: 'node', key });
      },
      onFit: () => (this.#tab === 'wait-for' ? this.#graph.fit() : this.#order.fit()),
    });

    const main = this.element.appendChild(el('div', 'ls-main'));
    this.#stage = main.appendChild(el('div', 'ls-stage'));
    this.#graph = new GraphView(this.#stage, {
      wheel,
      onSelect: (key) => this.select(key === undefined ? undefined : { kind: 'node', key }),
      onTransform: (t) => {
        this.#graphTransform = t;
        this.#save();
      },
    });
    this.#order = new OrderGraphView(this.#stage, {
      wheel,
      onSelect: (key) => this.select(key === undefined ? undefined : { kind: 'node', key }),
    });
    this.#stage.append(legend());
    this.#note = this.#stage.appendChild(el('p', 'ls-empty ls-centre'));
    this.#details = new DetailsView(main, {
      select: (s) => this.select(s),
      seek: (t) => this.seek(t),
    });

    const splitter = this.element.appendChild(el('div', 'ls-splitter'));
    splitter.setAttribute('role', 'separator');
    splitter.setAttribute('aria-orientation', 'horizontal');
    splitter.title = 'Drag to resize the timeline';
    this.#timeline = new TimelineView(this.element, {
      onSelectInterval: (id) => {
        const m = this.#model!;
        this.select({
          kind: 'interval',
          task: m.tasks[m.task[id]!]!.key,
          resource: m.resources[m.resource[id]!]!.key,
          start: m.start[id]!,
        });
      },
      onSelectTask: (t) => this.select({ kind: 'node', key: this.#model!.tasks[t]!.key }),
      onSelectFinding: (id) => {
        this.select({ kind: 'finding', id });
        const f = this.#model?.findingsById.get(id);
        if (f) this.seek(f.at);
      },
      onSeek: (t) => this.seek(t),
      onView: () => this.#save(),
    });
    dragSplitter(splitter, this.element, this.#timeline.element, () => {
      this.#timelineSized = true;
    });

    this.element.addEventListener('click', (event) => openSiteOnClick(event, host));
    const { signal } = this.#listening;
    document.addEventListener(
      'keydown',
      (event) =>
        onShortcut(event, this.element, options.layout, {
          playOrPause: () => (this.#playing ? this.stopPlaying() : this.play()),
          step: (d) => this.step(d),
          start: () => this.seek(this.#model?.first ?? 0),
          end: () => this.goLive(),
          search: () => this.#toolbar.search.focus(),
          deselect: () => this.select(undefined),
          fit: () => (this.#tab === 'wait-for' ? this.#graph.fit() : this.#order.fit()),
        }),
      { signal },
    );
    this.#unwatch = watchTheme(() => {
      this.#graph.retheme();
      this.#timeline.retheme();
    });
    this.#resizer = new ResizeObserver(() => {
      this.#sizeTimeline();
      this.#graph.resize();
      this.#timeline.resize();
    });
    this.#resizer.observe(this.#stage);
    this.#resizer.observe(this.#timeline.element);
    if (this.#restore) {
      this.#tab = this.#restore.tab;
      this.#search = this.#restore.search;
      this.#toolbar.search.value = this.#search;
      this.#graph.setSearch(this.#search);
      this.#timeline.setSearch(this.#search);
    }
    this.#showTab();
    this.#update();
  }

  // -------------------------------------------------------------------------------------------
  // Reports

  /** Shows a report, or keeps it for later while the view is paused. */
  receive(report: Report, live: boolean, packed?: PackedTimeline): void {
    if (this.#model && this.#paused) {
      this.#pending = { report, live, packed };
      this.#waiting++;
      this.#update();
      return;
    }
    this.#apply(report, live, packed);
  }

  #apply(report: Report, live: boolean, packed: PackedTimeline | undefined): void {
    const first = this.#model === undefined;
    const model = new Model(report, live, packed);
    this.#model = model;
    this.#applied++;
    this.#pending = undefined;
    this.#waiting = 0;
    this.#pictureKey = '';
    if (!this.#speedChosen) this.#speed = defaultSpeed(model);
    const restore = first ? this.#restore : undefined;
    if (restore) {
      this.#restore = undefined;
      this.#paused = restore.paused && restore.time !== undefined;
      if (restore.selected) this.#selected = restore.selected;
      this.#time = this.#paused ? clamp(restore.time!, model.first, model.last) : model.last;
    }
    if (!this.#paused) this.#time = model.last;
    else this.#time = clamp(this.#time, model.first, model.last);
    this.#timeline.setModel(model);
    this.#sizeTimeline();
    this.#order.setModel(model);
    this.#update();
    if (restore?.graph) this.#graph.setTransform(restore.graph);
    if (restore?.timeline) {
      const { t0, t1, scrollTop } = restore.timeline;
      this.#timeline.setView(t0, t1, scrollTop);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Playback

  /** Shows the moment `time`, pausing the live view. */
  seek(time: number): void {
    const m = this.#model;
    if (!m) return;
    this.#paused = true;
    this.#time = clamp(time, m.first, m.last);
    this.#timeline.reveal(this.#time);
    this.#update();
  }

  /** Moves to the previous or next moment at which something happens. */
  step(direction: -1 | 1): void {
    const m = this.#model;
    if (!m) return;
    this.stopPlaying();
    const t = direction > 0 ? m.nextBoundary(this.#time) : m.previousBoundary(this.#time);
    this.seek(t ?? (direction > 0 ? m.last : m.first));
  }

  pause(): void {
    if (!this.#model) return;
    this.#paused = true;
    this.#update();
  }

  /** Follows the session again (or, for a finished report, goes to its end). */
  goLive(): void {
    this.stopPlaying();
    this.#paused = false;
    const pending = this.#pending;
    if (pending) this.#apply(pending.report, pending.live, pending.packed);
    else if (this.#model) this.#time = this.#model.last;
    this.#update();
  }

  /** Plays from the moment shown (from the start when at the end) at the chosen speed. */
  play(): void {
    const m = this.#model;
    if (!m || this.#playing) return;
    if (!this.#paused || this.#time >= m.last) this.#time = m.first;
    this.#paused = true;
    this.#playing = true;
    this.#playLast = performance.now();
    const tick = (now: number): void => {
      if (!this.#playing || !this.#model) return;
      const dt = Math.min(now - this.#playLast, 100);
      this.#playLast = now;
      this.#time = Math.min(this.#time + dt * 1000 * this.#speed, this.#model.last);
      this.#timeline.reveal(this.#time);
      if (this.#time >= this.#model.last) this.#playing = false;
      this.#update();
      if (this.#playing) this.#playFrame = requestAnimationFrame(tick);
    };
    this.#playFrame = requestAnimationFrame(tick);
    this.#update();
  }

  stopPlaying(): void {
    if (!this.#playing) return;
    this.#playing = false;
    cancelAnimationFrame(this.#playFrame);
    this.#update();
  }

  select(selected: Selected | undefined): void {
    this.#selected = selected;
    this.#update();
  }

  // -------------------------------------------------------------------------------------------

  /** Brings every part of the view up to date with the state; cheap when little changed. */
  #update(): void {
    const m = this.#model;
    if (m) {
      const atEnd = !this.#paused || this.#time >= m.last;
      // The picture changes only at boundaries, so the number of boundaries passed names it.
      const key = atEnd ? `end` : `t${m.boundaryCount(this.#time)}`;
      if (key !== this.#pictureKey || !this.#picture) {
        this.#pictureKey = key;
        this.#picture = pictureAt(m, this.#time, atEnd);
        this.#graph.setPicture(this.#picture);
      }
      this.#timeline.setCursor(this.#paused ? this.#time : m.live ? undefined : this.#time);
      this.#timeline.setSelection(this.#timelineSelection(m));
      this.#graph.setSelected(this.#selectedNode(m));
      this.#order.setSelected(this.#selectedNode(m));
      this.#details.show(m, this.#picture, this.#selected);
    }
    const empty = !m
      ? waitingText(this.#options.mode)
      : this.#picture && this.#picture.nodes.length === 0
        ? 'No task holds or waits for anything at this moment.'
        : '';
    this.#note.textContent = empty;
    this.#note.hidden = empty === '' || this.#tab !== 'wait-for';
    this.#toolbar.update({
      paused: this.#paused,
      playing: this.#playing,
      time: this.#time,
      end: m?.last ?? 0,
      // The boundaries are sorted on first use: a live view that is never paused skips that.
      ...(m && this.#paused
        ? { event: m.boundaryCount(this.#time), events: m.boundaries.length }
        : {}),
      intervals: m?.n ?? 0,
      waiting: this.#waiting,
      live: m?.live ?? this.#options.mode === 'live',
      speed: this.#speed,
      tab: this.#tab,
      matches: this.#search ? this.#graph.matches.length : undefined,
    });
    this.#save();
  }

  #selectedNode(m: Model): string | undefined {
    const s = this.#selected;
    if (s?.kind === 'node') return s.key;
    if (s?.kind === 'interval') return m.taskIndex.has(s.task) ? s.task : undefined;
    return undefined;
  }

  #timelineSelection(m: Model): { interval?: number; task?: number; resource?: number } {
    const s = this.#selected;
    if (s?.kind === 'node') {
      const task = m.taskIndex.get(s.key);
      if (task !== undefined) return { task };
      const resource = m.resourceIndex.get(s.key);
      return resource !== undefined ? { resource } : {};
    }
    if (s?.kind === 'interval') {
      const interval = m.findInterval(s.task, s.resource, s.start);
      return interval >= 0 ? { interval, task: m.task[interval]! } : {};
    }
    return {};
  }

  #setTab(tab: 'wait-for' | 'lock-order'): void {
    this.#tab = tab;
    this.#showTab();
    this.#update();
  }

  #showTab(): void {
    const wait = this.#tab === 'wait-for';
    this.#graph.element.hidden = !wait;
    this.#order.element.hidden = wait;
    this.#stage.classList.toggle('order', !wait);
    if (wait) this.#graph.resize();
    else this.#order.fit();
  }

  #setSearch(query: string): void {
    this.#search = query;
    this.#graph.setSearch(query);
    this.#timeline.setSearch(query);
    this.#update();
  }

  /** Until the user drags the splitter, the timeline is as tall as its lanes, up to 45%. */
  #sizeTimeline(): void {
    if (this.#timelineSized) return;
    const total = this.element.clientHeight;
    if (total === 0) return;
    const h = clamp(this.#timeline.preferredHeight, 130, Math.max(130, total * 0.45));
    this.element.style.setProperty('--ls-timeline-height', `${Math.round(h)}px`);
  }

  /** Saves what the user looks at, a moment after it stops changing. */
  #save(): void {
    if (this.#saveTimer !== undefined) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.#host.saveState(this.state);
    }, 200);
  }

  get state(): ViewState {
    const state: ViewState = {
      version: 1,
      paused: this.#paused,
      tab: this.#tab,
      search: this.#search,
    };
    if (this.#paused) state.time = this.#time;
    if (this.#graphTransform) state.graph = this.#graphTransform;
    if (this.#model) state.timeline = this.#timeline.view;
    if (this.#selected) state.selected = this.#selected;
    return state;
  }

  /** The test hook (see debug.ts). */
  debugHook(): LockscopeDebug {
    return {
      snapshot: () => this.#snapshot(),
      seek: (t) => this.seek(t),
      step: (d) => this.step(d),
      live: () => this.goLive(),
      play: () => this.play(),
      receive: (message) => {
        const m = parseToWebview(message);
        if (typeof m === 'string') throw new Error(m);
        this.receive(m.report, m.live, m.timeline);
      },
      panGraph: (dx, dy) => this.#graph.panBy(dx, dy),
      reheatGraph: (alpha) => this.#graph.reheat(alpha),
      zoomTimeline: (f, at) => this.#timeline.zoomBy(f, at),
      panTimeline: (f) => this.#timeline.panBy(f),
      scrollTimeline: (dy) => this.#timeline.scrollBy(dy),
      destroy: () => this.destroy(),
    };
  }

  #snapshot(): DebugSnapshot {
    const m = this.#model;
    const probe = document.createElement('canvas').getContext('2d')!;
    probe.strokeStyle = readTheme(this.element).error;
    return {
      paused: this.#paused,
      playing: this.#playing,
      live: m?.live ?? false,
      time: this.#time,
      first: m?.first ?? 0,
      last: m?.last ?? 0,
      intervals: m?.n ?? 0,
      tab: this.#tab,
      search: this.#search,
      selected: this.#selected,
      waiting: this.#waiting,
      errorColour: String(probe.strokeStyle),
      graph: this.#graph.debug,
      timeline: this.#timeline.debug,
      applied: this.#applied,
    };
  }

  destroy(): void {
    // Stopping first: it updates the view, which schedules a save that must not outlive it.
    this.stopPlaying();
    this.#listening.abort();
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    this.#unwatch();
    this.#resizer.disconnect();
    this.#graph.destroy();
    this.#timeline.destroy();
    this.element.remove();
  }
}

/** What the empty view says before the first report. */
function waitingText(mode: AppOptions['mode']): string {
  return mode === 'live' ? 'Waiting for the first report of the session…' : 'The report is empty.';
}
