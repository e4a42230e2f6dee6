/**
 * The view's input that is not a widget's own: keyboard shortcuts, clicks on source sites, and
 * the splitter between the graph and the time line.
 */
import type { AppHost, AppOptions } from './app.js';

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** What the keyboard shortcuts do. */
export interface ShortcutActions {
  playOrPause(): void;
  step(direction: -1 | 1): void;
  start(): void;
  end(): void;
  search(): void;
  deselect(): void;
  fit(): void;
}

/**
 * Space plays or pauses, arrows step, Home and End go to the ends, / searches, Escape deselects,
 * f fits. Not while typing, and in a page only while the view has the focus.
 */
export function onShortcut(
  event: KeyboardEvent,
  view: HTMLElement,
  layout: AppOptions['layout'],
  act: ShortcutActions,
): void {
  const target = event.target as HTMLElement | null;
  if (target?.closest('input, select, textarea') || event.altKey || event.ctrlKey) return;
  if (layout === 'page' && !view.contains(document.activeElement)) return;
  switch (event.key) {
    case ' ':
      act.playOrPause();
      break;
    case 'ArrowLeft':
      act.step(-1);
      break;
    case 'ArrowRight':
      act.step(1);
      break;
    case 'Home':
      act.start();
      break;
    case 'End':
      act.end();
      break;
    case '/':
      act.search();
      break;
    case 'Escape':
      act.deselect();
      break;
    case 'f':
      act.fit();
      break;
    default:
      return;
  }
  event.preventDefault();
}

/** A click on anything with `data-file` (a site) asks the host to open the source there. */
export function openSiteOnClick(event: MouseEvent, host: AppHost): void {
  const target = (event.target as Element | null)?.closest<HTMLElement>('[data-file]');
  if (!target) return;
  const line = Number(target.dataset.line);
  const column = Number(target.dataset.column);
  if (!target.dataset.file || !Number.isInteger(line) || line < 1) return;
  event.preventDefault();
  host.openSource({
    file: target.dataset.file,
    line,
    ...(Number.isInteger(column) && column >= 1 ? { column } : {}),
  });
}

/** Dragging the splitter sets the time line's height (`--ls-timeline-height` on the view). */
export function dragSplitter(
  splitter: HTMLElement,
  view: HTMLElement,
  timeline: HTMLElement,
  onDragged: () => void,
): void {
  splitter.addEventListener('mousedown', (down) => {
    down.preventDefault();
    onDragged();
    const startY = down.clientY;
    const startHeight = timeline.getBoundingClientRect().height;
    const move = (e: MouseEvent): void => {
      const total = view.getBoundingClientRect().height;
      const h = clamp(startHeight - (e.clientY - startY), 90, total - 160);
      view.style.setProperty('--ls-timeline-height', `${h}px`);
    };
    const up = (): void => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  });
}
