/**
 * The graph panel's HTML document: a strict content security policy (nothing by default; scripts
 * only with the page's nonce, so no inline script or eval; styles and images only from the
 * extension's own files), the stylesheet and the script of the webview bundle, and the element it
 * draws into. Pure (no `vscode`), so the browser tests load the very same document.
 */
export interface WebviewHtmlOptions {
  /** The webview's `cspSource`: the origin its local resources are served from. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  /** A fresh random value per document. */
  nonce: string;
  title?: string;
}

export function webviewHtml(o: WebviewHtmlOptions): string {
  const csp = [
    "default-src 'none'",
    `style-src ${o.cspSource} 'nonce-${o.nonce}'`,
    `script-src 'nonce-${o.nonce}'`,
    `img-src ${o.cspSource} data:`,
    `font-src ${o.cspSource}`,
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${escapeAttribute(o.styleUri)}" nonce="${escapeAttribute(o.nonce)}">
<title>${escapeText(o.title ?? 'Lockscope Graph')}</title>
</head>
<body>
<div id="root"></div>
<script nonce="${escapeAttribute(o.nonce)}" src="${escapeAttribute(o.scriptUri)}"></script>
</body>
</html>`;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
