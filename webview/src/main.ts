/**
 * The webview's entry point. Issue 6 builds the wait-for graph, timeline and playback with d3;
 * until then the panel says that it is waiting for a session.
 */
const root = document.getElementById('root');
if (root) root.textContent = 'Lockscope: waiting for a session.';
