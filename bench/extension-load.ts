/**
 * The extension host under load: a program streams 50,000 events per second into a session for
 * several seconds while the session does what the extension does on every coalesced change
 * (diagnostics from the findings, the tree's live state, and the report the open graph panel
 * is sent). The figure is the longest the event loop was blocked, from a 1 ms timer's lateness.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { diagnosticsFor } from '../extension/src/presenter.js';
import { Session } from '../extension/src/session.js';

const RATE = 50_000;
const SECONDS = 5;
const TICK_MS = 10;

/** The producer: the child process writes protocol lines at RATE events per second. */
async function produce(endpoint: string, token: string): Promise<void> {
  const { createConnection } = await import('node:net');
  const socket = createConnection(endpoint);
  await new Promise((r) => socket.once('connect', r));
  const origin = Date.now();
  const lines = [
    JSON.stringify({
      t: 'hello',
      protocol: 1,
      probe: 'bench',
      capabilities: [],
      pid: process.pid,
      title: 'load',
      thread: 0,
      ts: origin,
      token,
    }),
  ];
  for (let t = 1; t <= 64; t++)
    lines.push(JSON.stringify({ t: 'task', id: t, name: `task ${t}`, kind: 'spawn', thread: 0 }));
  for (let r = 1; r <= 32; r++) {
    lines.push(
      JSON.stringify({
        t: 'resource',
        id: 1000 + r,
        kind: 'mutex',
        name: `lock ${r}`,
        class: `c${r}`,
      }),
    );
  }
  lines.push(JSON.stringify({ t: 'site', id: 1, file: '/app/x.ts', line: 3, column: 5 }));
  socket.write(lines.join('\n') + '\n');
  const perTick = (RATE * TICK_MS) / 1000;
  let task = 0;
  const start = performance.now();
  for (let tick = 0; tick < (SECONDS * 1000) / TICK_MS; tick++) {
    const events = [];
    for (let i = 0; i < perTick; i += 2) {
      task = (task % 64) + 1;
      const us = Math.round((performance.now() - start) * 1000);
      events.push(
        { us, op: 'acquired', task, res: 1000 + (task % 32) + 1, site: 1 },
        { us: us + 1, op: 'released', task, res: 1000 + (task % 32) + 1 },
      );
    }
    socket.write(JSON.stringify({ t: 'events', thread: 0, origin, events }) + '\n');
    const due = start + (tick + 1) * TICK_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
  socket.end(
    JSON.stringify({ t: 'end', ts: Date.now(), exitCode: 0, produced: 0, dropped: 0 }) + '\n',
  );
}

export async function measureExtensionBlock(): Promise<{ maxBlockMs: number; events: number }> {
  let work = 0;
  const session: Session = await Session.start(
    {
      onChange: () => {
        // What the extension's refresh does, the graph panel open.
        const findings = session.analyzer.findings;
        diagnosticsFor(findings);
        session.analyzer.state(500);
        JSON.stringify(session.analyzer.report({ maxIntervals: 5_000 }));
        work++;
      },
    },
    { updateMs: 250 },
  );
  let maxBlock = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxBlock = Math.max(maxBlock, now - last - 1);
    last = now;
  }, 1);
  const env = session.env();
  const child = fork(
    fileURLToPath(import.meta.url),
    ['produce', env.LOCKSCOPE_ENDPOINT!, env.LOCKSCOPE_TOKEN!],
    {
      execArgv: ['--import', 'tsx'],
    },
  );
  await new Promise((r) => child.once('exit', r));
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(timer);
  const events = session.analyzer
    .report({ maxIntervals: 0 })
    .processes.reduce((n, p) => n + p.events, 0);
  await session.close();
  if (work === 0) throw new Error('the session never refreshed');
  return { maxBlockMs: maxBlock, events };
}

if (process.argv[2] === 'produce') {
  await produce(process.argv[3]!, process.argv[4]!);
} else if (process.argv[1]?.endsWith('extension-load.ts')) {
  console.log(await measureExtensionBlock());
}
