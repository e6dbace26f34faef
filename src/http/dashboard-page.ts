/**
 * `GET /`: the dashboard, one self-contained HTML page (inline CSS and script, no external
 * resources). A Content-Security-Policy allows exactly that inline CSS and script (by hash) and
 * requests to the page's own origin, so even a markup mistake could not run injected script.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DASHBOARD_SCRIPT_CORE } from './dashboard-script.js';
import { DASHBOARD_SCRIPT_RENDER } from './dashboard-render.js';
import { DASHBOARD_CSS } from './dashboard-style.js';
import { send } from './respond.js';

const BODY = `
<header class="top">
  <h1>brama<small>circuit breakers</small></h1>
  <span id="health" class="badge" data-status="">Health: \u2026</span>
  <span id="store" class="badge" data-status="">Store: \u2026</span>
  <span class="spacer"></span>
  <span id="live" class="live" data-live="connecting">connecting</span>
  <label class="filter">Scope <select id="scope"></select></label>
</header>
<div id="banner" class="banner" role="alert" hidden></div>
<div class="wrap">
  <section id="summary" class="summary" aria-label="Counts"></section>
  <section class="strip" aria-label="Recent transitions">
    <h2>Recent transitions</h2>
    <ol id="transitions"></ol>
    <p id="no-transitions" class="empty">No transitions since this page opened.</p>
  </section>
  <h2>Connections</h2>
  <main id="connections" class="grid"></main>
  <p id="no-connections" class="empty">No connections.</p>
</div>
<footer>Last update <span id="updated">\u2014</span></footer>
`;

interface Page {
  readonly html: string;
  readonly csp: string;
}

let page: Page | null = null;

/** Builds the page and its policy once (they never change). */
function build(): Page {
  const script = `(function () {\n${DASHBOARD_SCRIPT_CORE}\n${DASHBOARD_SCRIPT_RENDER}\n})();\n`;
  const hash = (text: string): string =>
    `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
  const html =
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    '<meta name="referrer" content="no-referrer">\n' +
    '<title>brama dashboard</title>\n<link rel="icon" href="data:,">\n' +
    `<style>${DASHBOARD_CSS}</style>\n</head>\n<body>${BODY}<script>${script}</script>\n` +
    '</body>\n</html>\n';
  const csp = [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(DASHBOARD_CSS)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}

/** The page's HTML (for tests and the screenshot script). */
export function dashboardHtml(): string {
  page ??= build();
  return page.html;
}

/** Answers `GET /` with the page. */
export function sendDashboard(req: IncomingMessage, res: ServerResponse): void {
  page ??= build();
  send(req, res, 200, 'text/html; charset=utf-8', page.html, {
    'Content-Security-Policy': page.csp,
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  });
}
