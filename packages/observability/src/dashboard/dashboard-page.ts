/**
 * The dashboard's page and script: static text, no data (the script reads `dashboard/data`), no
 * dependency. The script writes every value with `textContent`, never as HTML. URLs are relative to
 * the page (`<base>/dashboard`), so a `basePath` or an Express mount path is kept. With API keys on,
 * the page asks for a key and keeps it in `sessionStorage` (this tab only, gone when it closes).
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fusion dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="dashboard/app.css">
</head>
<body>
<header><h1>Fusion</h1><span id="health" class="badge">…</span><span id="updated"></span><button id="forget" type="button" hidden>Forget key</button></header>
<form id="login" hidden>
<p id="login-note">This server needs an API key.</p>
<label>Admin API key <input id="key" type="password" autocomplete="off" required></label>
<button type="submit">Open</button>
</form>
<main id="main">
<section><h2>Requests</h2>
<p><b id="requests-total">0</b> answered · <span id="by-status"></span> · <span id="in-flight">0</span> in flight</p>
<svg id="latency" viewBox="0 0 600 160" preserveAspectRatio="none" role="img" aria-label="latency of recent requests"></svg>
<p class="note">Latency of the last requests, ms (p50 <span id="p50">–</span>, p99 <span id="p99">–</span>)</p>
</section>
<section><h2>Models</h2>
<table id="models"><thead><tr><th>model</th><th>provider</th><th>status</th><th>circuit</th><th>in use</th><th>queue running/waiting</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Queue</h2><p id="queue"></p></section>
<section><h2>Recent pipeline runs</h2>
<table id="runs"><thead><tr><th>pipeline</th><th>strategy</th><th>outcome</th><th>calls</th><th>ms</th><th>trace</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Recent requests</h2>
<table id="requests"><thead><tr><th>request id</th><th>route</th><th>model</th><th>status</th><th>ms</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Jobs</h2><p id="jobs-summary"></p>
<table id="jobs"><thead><tr><th>job</th><th>kind</th><th>status</th><th>created</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Process</h2><p id="process"></p></section>
<p id="error" class="error" hidden></p>
</main>
<script src="dashboard/app.js"></script>
</body>
</html>
`;

export const DASHBOARD_CSS = `body{font:14px system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{display:flex;gap:1em;align-items:center;padding:.6em 1.2em;background:#1b1f24;color:#fff}
h1{font-size:1.2em;margin:0}h2{font-size:1em;margin:.2em 0 .5em}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1em;padding:1em}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.8em}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2em .4em;border-bottom:1px solid #eee;font-variant-numeric:tabular-nums}
.badge{padding:.1em .6em;border-radius:1em;background:#888}.ok{background:#1a7f37}.bad{background:#cf222e}
svg{width:100%;height:160px;background:#f6f8fa}polyline{fill:none;stroke:#0969da;stroke-width:1.5}
.note,#updated{color:#57606a;font-size:.9em}.error{color:#cf222e}
[hidden]{display:none!important}
#login{margin:2em auto;max-width:420px;background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:1em}
#login input{width:100%;box-sizing:border-box;margin:.4em 0}#forget{margin-left:auto}
`;

export const DASHBOARD_JS = `'use strict';
const $ = (id) => document.getElementById(id);
function rows(table, items, cells) {
  const body = $(table).tBodies[0];
  body.replaceChildren(...items.map((item) => {
    const row = document.createElement('tr');
    for (const value of cells(item)) {
      const cell = document.createElement('td');
      cell.textContent = value === undefined || value === null ? '' : String(value);
      row.append(cell);
    }
    return row;
  }));
}
function percentile(values, p) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function chart(durations) {
  const svg = $('latency');
  const max = Math.max(1, ...durations);
  const step = durations.length > 1 ? 600 / (durations.length - 1) : 0;
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', durations.map((ms, i) => (i * step).toFixed(1) + ',' + (158 - (ms / max) * 150).toFixed(1)).join(' '));
  svg.replaceChildren(line);
}
const KEY = 'fusion-dashboard-key';
const DATA_URL = new URL('dashboard/data', document.baseURI);
let asking = false;
function ask(note) {
  asking = true;
  sessionStorage.removeItem(KEY);
  $('login-note').textContent = note;
  $('login').hidden = false;
  $('main').hidden = true;
  $('forget').hidden = true;
  $('key').focus();
}
$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $('key').value.trim());
  $('key').value = '';
  $('login').hidden = true;
  $('main').hidden = false;
  asking = false;
  refresh();
});
$('forget').addEventListener('click', () => ask('Key forgotten. Enter an API key to see the dashboard.'));
async function refresh() {
  if (asking) return;
  const key = sessionStorage.getItem(KEY);
  try {
    const response = await fetch(DATA_URL, {
      credentials: 'same-origin',
      cache: 'no-store',
      headers: key ? { authorization: 'Bearer ' + key } : {},
    });
    if (response.status === 401) return ask(key ? 'That key was not accepted.' : 'This server needs an API key.');
    if (response.status === 403 && key) return ask('That key may not see the dashboard: it needs an admin key.');
    if (!response.ok) throw new Error('GET dashboard/data: ' + response.status);
    const data = await response.json();
    $('error').hidden = true;
    $('forget').hidden = !key;
    const health = data.health.status;
    $('health').textContent = health;
    $('health').className = 'badge ' + (health === 'ok' ? 'ok' : 'bad');
    $('updated').textContent = 'updated ' + new Date(data.report.time).toLocaleTimeString();
    $('requests-total').textContent = String(data.feed.requests_total);
    $('by-status').textContent = Object.entries(data.feed.by_status).map(([s, n]) => s + ': ' + n).join(', ') || 'none yet';
    $('in-flight').textContent = String(data.report.in_flight);
    const durations = data.feed.recent_requests.map((r) => r.duration_ms);
    chart(durations);
    $('p50').textContent = String(percentile(durations, 50) ?? '–');
    $('p99').textContent = String(percentile(durations, 99) ?? '–');
    const queue = data.report.queue;
    rows('models', data.report.models, (m) => [m.id, m.provider, m.status, m.circuit, m.in_use,
      queue.models[m.id] ? queue.models[m.id].running + '/' + queue.models[m.id].waiting : '0/0']);
    $('queue').textContent = queue.running + ' running, ' + queue.waiting + ' waiting (limit ' + queue.concurrency + ', ' + queue.maxWaiting + ' may wait)';
    rows('runs', data.feed.recent_runs, (r) => [r.pipeline, r.strategy, r.outcome, r.calls, r.duration_ms, r.trace_id]);
    rows('requests', data.feed.recent_requests.slice(-15).reverse(), (r) => [r.request_id, r.route, r.model, r.status, r.duration_ms]);
    const jobs = data.report.jobs;
    $('jobs-summary').textContent = jobs ? jobs.total + ' jobs: ' + (Object.entries(jobs.by_status).map(([s, n]) => s + ' ' + n).join(', ') || 'none') : 'no job runner';
    rows('jobs', jobs ? jobs.recent : [], (j) => [j.id, j.kind, j.status, new Date(j.created_at * 1000).toLocaleTimeString()]);
    const p = data.report.process;
    $('process').textContent = 'heap ' + (p.memory.heap_used / 1048576).toFixed(1) + ' MiB, rss ' + (p.memory.rss / 1048576).toFixed(1) + ' MiB, event-loop delay p99 ' + p.event_loop_delay_ms.p99 + ' ms, up ' + p.uptime_s + ' s, ' + p.node;
  } catch (error) {
    $('error').hidden = false;
    $('error').textContent = String(error && error.message ? error.message : error);
  }
}
refresh();
setInterval(refresh, 1000);
`;
