/**
 * The details panel: what is selected, as of the moment shown. A task or a resource lists its
 * holds and waits in the retained window (most recent first) with their sites; an interval shows
 * its site and the whole stack; a finding shows its story, its sites and the fix. With nothing
 * selected it lists the findings. Every site is a link that asks the host to open the source.
 */
import type { Finding } from 'lockscope/report';
import { certaintyWords } from 'lockscope/report';
import type { Model, Site } from '../model/model.js';
import type { Picture } from '../model/picture.js';
import type { Selected } from '../protocol.js';
import { colourVar, el, formatDuration, formatTime, siteLink } from './common.js';

export interface DetailsOptions {
  select(selected: Selected | undefined): void;
  seek(time: number): void;
}

/** Intervals listed for a node before "and n more". */
const LIST_LIMIT = 60;

export class DetailsView {
  readonly element: HTMLElement;
  readonly #options: DetailsOptions;
  #shown = '';

  constructor(parent: HTMLElement, options: DetailsOptions) {
    this.#options = options;
    this.element = parent.appendChild(el('aside', 'ls-details'));
    this.element.setAttribute('aria-label', 'Details');
  }

  /** Shows the selection as of `picture`'s moment. Redraws only when something it shows changed. */
  show(model: Model, picture: Picture, selected: Selected | undefined): void {
    const key = `${JSON.stringify(selected)}|${picture.time}|${picture.atEnd}|${model.n}|${model.report.findings.length}`;
    if (key === this.#shown && this.element.childElementCount > 0) return;
    this.#shown = key;
    const body: HTMLElement[] = [];
    switch (selected?.kind) {
      case 'finding': {
        const f = model.findingsById.get(selected.id);
        if (f) body.push(...this.#finding(f));
        break;
      }
      case 'node': {
        const t = model.taskIndex.get(selected.key);
        const r = model.resourceIndex.get(selected.key);
        if (t !== undefined) body.push(...this.#task(model, picture, t));
        else if (r !== undefined) body.push(...this.#resource(model, picture, r));
        break;
      }
      case 'interval': {
        const id = model.findInterval(selected.task, selected.resource, selected.start);
        if (id >= 0) body.push(...this.#interval(model, id));
        break;
      }
    }
    if (body.length === 0) body.push(...this.#overview(model));
    this.element.replaceChildren(...body);
  }

  // -------------------------------------------------------------------------------------------

  #overview(model: Model): HTMLElement[] {
    const out: HTMLElement[] = [];
    const findings = [...model.report.findings].sort(
      (a, b) => rank(a.severity) - rank(b.severity) || a.at - b.at,
    );
    out.push(el('h3', undefined, findings.length ? `Findings (${findings.length})` : 'Findings'));
    if (findings.length === 0) {
      out.push(el('p', 'ls-empty', 'No findings so far.'));
    } else {
      const list = el('ul', 'ls-list');
      for (const f of findings) {
        const li = el('li', `ls-finding-item ${f.severity}`);
        const b = el('button', 'ls-row');
        b.type = 'button';
        b.append(
          el('span', `ls-badge ${f.severity}`, f.kind),
          el('span', 'ls-row-text', f.title),
          el('span', 'ls-row-time', formatTime(f.at)),
        );
        b.title = 'Show this finding and go to the moment it was found';
        b.addEventListener('click', () => {
          this.#options.select({ kind: 'finding', id: f.id });
          this.#options.seek(f.at);
        });
        li.append(b);
        list.append(li);
      }
      out.push(list);
    }
    const tasks = new Set<number>();
    for (let i = 0; i < model.n; i++) tasks.add(model.task[i]!);
    const omitted = model.report.timeline.omitted;
    out.push(
      el(
        'p',
        'ls-hint',
        `${model.n} intervals of ${tasks.size} tasks in the retained window` +
          (omitted > 0 ? `; ${omitted} older ones left out.` : '.') +
          ' Click a node, a bar or a finding for its details.',
      ),
    );
    return out;
  }

  #finding(f: Finding): HTMLElement[] {
    const head = el('div', 'ls-details-head');
    head.append(el('span', `ls-badge ${f.severity}`, f.kind), el('h3', undefined, f.title));
    const at = el('button', 'ls-link', `Found at ${formatTime(f.at)}: show that moment`);
    at.type = 'button';
    at.addEventListener('click', () => this.#options.seek(f.at));
    const out: HTMLElement[] = [head, el('p', 'ls-message', f.message)];
    if (f.certainty === 'uncertain') {
      out.push(el('p', 'ls-uncertain', certaintyWords.why(f.uncertainty ?? [])));
    }
    out.push(at);
    if (f.sites.length > 0) {
      out.push(el('h4', undefined, 'Sites'));
      const list = el('ul', 'ls-list ls-sites');
      for (const s of f.sites) {
        const li = el('li');
        li.append(siteLink(s), el('span', 'ls-role', ` ${s.role}`));
        if (s.stack?.length) li.append(stackList(s.stack));
        list.append(li);
      }
      out.push(list);
    }
    if (f.fix) out.push(el('h4', undefined, 'Fix'), el('p', 'ls-fix', f.fix));
    out.push(this.#back());
    return out;
  }

  #task(model: Model, picture: Picture, t: number): HTMLElement[] {
    const info = model.tasks[t]!;
    const node = picture.nodes.find((n) => n.key === info.key);
    const state = node ? node.detail : 'idle (holds and waits for nothing)';
    const head = el('div', 'ls-details-head');
    head.append(el('span', 'ls-badge task', 'task'), el('h3', undefined, info.name));
    const out: HTMLElement[] = [
      head,
      el(
        'p',
        'ls-meta',
        `process ${info.pid} · ${info.thread === 0 ? 'main thread' : `thread ${info.thread}`}`,
      ),
      el('p', undefined, `At ${formatTime(picture.time)}: ${state}.`),
    ];
    const now = picture.edges.filter((e) => e.source === info.key || e.target === info.key);
    if (now.length > 0) {
      const list = el('ul', 'ls-list');
      for (const e of now) {
        if (e.type === 'order') continue;
        const other = e.type === 'holds' ? e.source : e.target;
        const r = model.resourceIndex.get(other);
        const name = r === undefined ? other : model.resources[r]!.name;
        const li = el('li');
        li.append(
          this.#nodeLink(other, `${e.type === 'holds' ? 'holds' : 'waits for'} ${name}`),
          e.cycle ? el('span', 'ls-badge error', 'deadlock') : el('span'),
        );
        list.append(li);
      }
      out.push(list);
    }
    out.push(...this.#intervals(model, model.intervalsOfTask(t), 'task'));
    out.push(this.#back());
    return out;
  }

  #resource(model: Model, picture: Picture, r: number): HTMLElement[] {
    const info = model.resources[r]!;
    const head = el('div', 'ls-details-head');
    const swatch = el('span', 'ls-swatch');
    swatch.style.background = colourVar(info.colour);
    head.append(swatch, el('h3', undefined, info.name));
    const out: HTMLElement[] = [head, el('p', 'ls-meta', info.kind)];
    const cls = /^(.*):(\d+):(\d+)$/.exec(info.cls);
    if (cls) {
      const p = el('p', 'ls-meta', 'created at ');
      p.append(siteLink({ file: cls[1]!, line: Number(cls[2]), column: Number(cls[3]) }));
      out.push(p);
    } else if (info.cls && info.cls !== info.kind) {
      out.push(el('p', 'ls-meta', `class ${info.cls}`));
    }
    const holders: string[] = [];
    const waiters: string[] = [];
    for (const e of picture.edges) {
      if (e.type === 'holds' && e.source === info.key) holders.push(e.target);
      if (e.type === 'waits' && e.target === info.key) waiters.push(e.source);
    }
    out.push(el('p', undefined, `At ${formatTime(picture.time)}:`));
    const list = el('ul', 'ls-list');
    const line = (label: string, keys: string[]): void => {
      const li = el('li', undefined, `${label}: `);
      if (keys.length === 0) li.append(el('span', 'ls-muted', 'none'));
      keys.forEach((k, i) => {
        const t = model.taskIndex.get(k);
        if (i > 0) li.append(', ');
        li.append(this.#nodeLink(k, t === undefined ? k : model.tasks[t]!.name));
      });
      list.append(li);
    };
    line('held by', holders);
    line('waited for by', waiters);
    out.push(list);
    out.push(...this.#intervals(model, model.intervalsOfResource(r), 'resource'));
    out.push(this.#back());
    return out;
  }

  #interval(model: Model, id: number): HTMLElement[] {
    const task = model.tasks[model.task[id]!]!;
    const resource = model.resources[model.resource[id]!]!;
    const wait = model.kind[id] === 1;
    const start = model.start[id]!;
    const end = model.end[id]!;
    const head = el('div', 'ls-details-head');
    const swatch = el('span', `ls-swatch${wait ? ' wait' : ''}`);
    swatch.style.background = colourVar(resource.colour);
    head.append(swatch, el('h3', undefined, `${wait ? 'Wait for' : 'Hold of'} ${resource.name}`));
    const who = el('p');
    who.append(
      this.#nodeLink(task.key, task.name),
      wait ? ' waited for ' : ' held ',
      this.#nodeLink(resource.key, resource.name),
      ` (${resource.kind}).`,
    );
    const out: HTMLElement[] = [head, who];
    const when = el(
      'p',
      'ls-meta',
      end < Infinity
        ? `${formatTime(start)} to ${formatTime(end)}: ${formatDuration(end - start)}`
        : `from ${formatTime(start)}, still ${wait ? 'waiting' : 'held'} at the end (${formatDuration(model.last - start)} so far)`,
    );
    out.push(when);
    const buttons = el('div', 'ls-buttons');
    const go = (label: string, t: number): void => {
      const b = el('button', 'ls-link', label);
      b.type = 'button';
      b.addEventListener('click', () => this.#options.seek(t));
      buttons.append(b);
    };
    go('Go to its start', start);
    if (end < Infinity) go('Go to its end', end);
    out.push(buttons);
    const by = model.endedBy[id]!;
    if (by >= 0) {
      const p = el('p', undefined, 'Granted when ');
      p.append(this.#nodeLink(model.tasks[by]!.key, model.tasks[by]!.name), ' released it.');
      out.push(p);
    }
    const site = model.siteOf(id);
    if (site) {
      out.push(el('h4', undefined, 'Where'));
      const p = el('p');
      p.append(siteLink(site));
      if (site.fn) p.append(el('span', 'ls-role', ` in ${site.fn}`));
      out.push(p);
      if (site.stack?.length) {
        out.push(el('h4', undefined, 'Called from'));
        out.push(stackList(site.stack, true));
      }
    }
    out.push(this.#back());
    return out;
  }

  /** A node's intervals, most recent first, each a row that selects it. */
  #intervals(model: Model, ids: Int32Array, of: 'task' | 'resource'): HTMLElement[] {
    const out: HTMLElement[] = [el('h4', undefined, `Holds and waits (${ids.length})`)];
    if (ids.length === 0) {
      out.push(el('p', 'ls-empty', 'None in the retained window.'));
      return out;
    }
    const list = el('ul', 'ls-list ls-intervals');
    for (let k = ids.length - 1; k >= 0 && k >= ids.length - LIST_LIMIT; k--) {
      const id = ids[k]!;
      const r = model.resources[model.resource[id]!]!;
      const t = model.tasks[model.task[id]!]!;
      const wait = model.kind[id] === 1;
      const end = model.end[id]!;
      const li = el('li');
      const row = el('button', 'ls-row');
      row.type = 'button';
      const swatch = el('span', `ls-swatch${wait ? ' wait' : ''}`);
      swatch.style.background = colourVar(r.colour);
      const what =
        of === 'task'
          ? `${wait ? 'waits for' : 'holds'} ${r.name}`
          : `${t.name} ${wait ? 'waits' : 'holds'}`;
      row.append(
        swatch,
        el('span', 'ls-row-text', what),
        el(
          'span',
          'ls-row-time',
          `${formatTime(model.start[id]!)} · ${end < Infinity ? formatDuration(end - model.start[id]!) : 'open'}`,
        ),
      );
      row.addEventListener('click', () =>
        this.#options.select({
          kind: 'interval',
          task: t.key,
          resource: r.key,
          start: model.start[id]!,
        }),
      );
      li.append(row);
      const site = model.siteOf(id);
      if (site) li.append(siteLink(site));
      list.append(li);
    }
    out.push(list);
    if (ids.length > LIST_LIMIT) {
      out.push(el('p', 'ls-hint', `and ${ids.length - LIST_LIMIT} earlier ones`));
    }
    return out;
  }

  #nodeLink(key: string, label: string): HTMLElement {
    const b = el('button', 'ls-link', label);
    b.type = 'button';
    b.addEventListener('click', () => this.#options.select({ kind: 'node', key }));
    return b;
  }

  #back(): HTMLElement {
    const b = el('button', 'ls-link ls-back', 'Back to the findings');
    b.type = 'button';
    b.addEventListener('click', () => this.#options.select(undefined));
    return b;
  }
}

function rank(severity: string): number {
  return severity === 'error' ? 0 : severity === 'warning' ? 1 : 2;
}

/** A stack, innermost frame first, each frame a link to its source. */
function stackList(stack: Omit<Site, 'role' | 'stack'>[], open = false): HTMLElement {
  const details = el('details', 'ls-stack');
  details.open = open;
  details.append(el('summary', undefined, `stack (${stack.length} frames)`));
  const list = el('ol', 'ls-frames');
  for (const f of stack) {
    const li = el('li');
    li.append(siteLink(f));
    if (f.fn) li.append(el('span', 'ls-role', ` ${f.fn}`));
    list.append(li);
  }
  details.append(list);
  return details;
}
