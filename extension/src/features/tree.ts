/**
 * The "Lockscope" tree view: processes, their threads and tasks with their state, and the
 * resources that are held or waited for, with holders and waiters. Built from the analyzer's
 * bounded live state on every (coalesced) change.
 */
import * as vscode from 'vscode';
import type { LiveProcess, LiveState } from 'lockscope/report';
import { processWords } from 'lockscope/report';
import type { Host } from './host.js';

type Node =
  | { kind: 'process'; process: LiveProcess }
  | { kind: 'group'; process: LiveProcess; group: 'tasks' | 'resources' }
  | { kind: 'leaf'; label: string; description: string; tooltip: string; icon: string };

/** Registers the "Lockscope" view; the returned tree is refreshed on every change. */
export function registerTree(host: Host): SessionTree {
  const tree = new SessionTree(() => host.view().state());
  host.context.subscriptions.push(
    vscode.window.registerTreeDataProvider('lockscope.session', tree),
  );
  return tree;
}

export class SessionTree implements vscode.TreeDataProvider<Node> {
  readonly #changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.#changed.event;
  #state: LiveState = { processes: [] };

  constructor(private readonly read: () => LiveState) {}

  refresh(): void {
    this.#state = this.read();
    this.#changed.fire(undefined);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'process': {
        const p = node.process;
        const item = new vscode.TreeItem(
          processWords.name(p),
          vscode.TreeItemCollapsibleState.Expanded,
        );
        // A child process of another one in the session says which.
        const parent = this.#state.processes.find((q) => q.pid === p.ppid && q !== p);
        if (parent) item.tooltip = processWords.startedBy(processWords.name(parent));
        item.description =
          p.status === 'running'
            ? `running · ${p.threads.length} ${p.threads.length === 1 ? 'thread' : 'threads'}`
            : p.status === 'exited'
              ? `exited with ${p.exitCode}`
              : 'ended (cut off)';
        if (p.dropped) item.description += ` · ${p.dropped} events dropped`;
        item.iconPath = new vscode.ThemeIcon(p.status === 'running' ? 'debug-start' : 'debug-stop');
        item.contextValue = 'process';
        return item;
      }
      case 'group': {
        const list = node.group === 'tasks' ? node.process.tasks : node.process.resources;
        const item = new vscode.TreeItem(
          node.group === 'tasks' ? 'Tasks' : 'Resources',
          list.length
            ? vscode.TreeItemCollapsibleState.Expanded
            : vscode.TreeItemCollapsibleState.None,
        );
        item.description = String(list.length);
        return item;
      }
      case 'leaf': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon(node.icon);
        return item;
      }
    }
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.#state.processes.map((process) => ({ kind: 'process', process }));
    if (node.kind === 'process') {
      return [
        { kind: 'group', process: node.process, group: 'tasks' },
        { kind: 'group', process: node.process, group: 'resources' },
      ];
    }
    if (node.kind !== 'group') return [];
    const p = node.process;
    if (node.group === 'tasks') {
      const leaves: Node[] = p.tasks.map((t) => {
        const holds = t.holds.length ? `holds ${t.holds.join(', ')}` : '';
        const waits = t.waitingFor ? `waits for ${t.waitingFor}` : '';
        const description = [t.state === 'blocked' ? waits : 'running', holds]
          .filter(Boolean)
          .join(' · ');
        return {
          kind: 'leaf',
          label: t.name,
          description: `thread ${t.thread} · ${description}`,
          tooltip: `${t.name} (thread ${t.thread}): ${description}`,
          icon: t.state === 'blocked' ? 'debug-pause' : 'play',
        };
      });
      if (p.tasksOmitted) {
        leaves.push({
          kind: 'leaf',
          label: `${p.tasksOmitted} more`,
          description: 'not shown',
          tooltip: 'The view shows the first tasks, blocked ones first.',
          icon: 'ellipsis',
        });
      }
      return leaves;
    }
    return p.resources.map((r) => {
      const description = [
        r.holders.length ? `held by ${r.holders.join(', ')}` : 'free',
        r.waiters.length ? `${r.waiters.length} waiting: ${r.waiters.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' · ');
      return {
        kind: 'leaf',
        label: r.name,
        description: `${r.kind} · ${description}`,
        tooltip: `${r.name} (${r.kind}): ${description}`,
        icon: r.waiters.length ? 'lock' : 'unlock',
      };
    });
  }
}
