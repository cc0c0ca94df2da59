// HomeIQ dashboard: plain JavaScript, no dependencies. Hash routes: #/resources, #/console/{name}, #/logs,
// #/traces, #/traces/{id}, #/metrics/{resource}/{instrument}. Live data arrives over Server-Sent Events.
'use strict';

const state = { resources: new Map(), consoleResource: null, paused: false, events: null, route: [] };
const $ = (sel, root = document) => root.querySelector(sel);
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const time = t => t ? new Date(t).toLocaleTimeString([], { hour12: false }) + '.' + String(new Date(t).getMilliseconds()).padStart(3, '0') : '';
const ms = v => v < 1 ? v.toFixed(2) + ' ms' : v < 1000 ? v.toFixed(1) + ' ms' : (v / 1000).toFixed(2) + ' s';

async function api(path, options) {
  const response = await fetch('/api/v1/' + path, options);
  if (response.status === 401) { location.reload(); throw new Error('not logged in'); }
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).detail || response.statusText);
  return response.json();
}

// ---- live updates -------------------------------------------------------------------------------
function connect() {
  state.events?.close();
  const query = state.consoleResource ? '?console=' + encodeURIComponent(state.consoleResource) : '';
  const events = state.events = new EventSource('/api/v1/events' + query);
  events.onopen = () => $('#live').classList.add('on');
  events.onerror = () => $('#live').classList.remove('on');
  events.addEventListener('resource', e => {
    const r = JSON.parse(e.data);
    state.resources.set(r.name, r);
    if (state.route[0] === 'resources') renderResources();
  });
  events.addEventListener('console', e => appendConsole(JSON.parse(e.data)));
  events.addEventListener('telemetry', e => {
    const kind = JSON.parse(e.data).kind;
    const page = state.route[0];
    if ((page === 'logs' && kind === 'Logs') || (page === 'traces' && kind === 'Traces') || (page === 'metrics' && kind === 'Metrics')) refresh();
  });
}

// ---- routing ------------------------------------------------------------------------------------
function route() {
  state.route = (location.hash.replace(/^#\/?/, '') || 'resources').split('/').map(decodeURIComponent);
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.page === state.route[0]));
  // The console page reconnects once its output element exists, so the backlog the stream starts with is not lost.
  const consoleResource = state.route[0] === 'console' ? (state.route[1] || firstProcess()) : null;
  if (!consoleResource && (state.consoleResource || !state.events)) { state.consoleResource = null; connect(); }
  refresh(true);
}

function refresh(full) {
  const page = state.route[0];
  const pages = { resources: renderResources, console: () => renderConsole(full), logs: renderLogs, traces: state.route[1] ? renderTrace : renderTraces, metrics: renderMetrics };
  (pages[page] || renderResources)().catch(err => { $('#page').innerHTML = `<p class="empty">${esc(err.message)}</p>`; });
}

// A page rendered after slow API calls must not overwrite the page the user has moved to meanwhile.
function show(html, page, detail) {
  if (state.route[0] !== page || (detail !== undefined && (state.route[1] || '') !== detail)) return false;
  $('#page').innerHTML = html;
  return true;
}

const firstProcess = () => [...state.resources.values()].find(r => r.commands.length)?.name || '';

// ---- resources ----------------------------------------------------------------------------------
let expanded = new Set();
async function renderResources() {
  if (state.resources.size === 0) (await api('resources')).forEach(r => state.resources.set(r.name, r));
  const rows = [...state.resources.values()].filter(r => r.type !== 'Parameter').map(r => {
    // Commands wait until a resource has finished starting (or stopping); the server refuses them before that too.
    const busy = ['NotStarted', 'Waiting', 'Starting', 'Stopping'].includes(r.state);
    const running = !busy && !['Exited', 'Finished', 'FailedToStart'].includes(r.state);
    const buttons = r.commands.length ? `
      <button data-command="resource-stop" ${running ? '' : 'disabled'}>Stop</button>
      <button data-command="resource-start" ${running || busy ? 'disabled' : ''}>Start</button>
      <button data-command="resource-restart" ${busy ? 'disabled' : ''}>Restart</button>` : '';
    const details = expanded.has(r.name) ? `<tr class="details-row"><td colspan="9" class="details"><div class="kv">
        ${r.stateReason ? `<span>Reason</span><span>${esc(r.stateReason)}</span>` : ''}
        <span>Process ids</span><span>${esc(r.processIds.join(', ') || '–')}</span>
        <span>References</span><span>${esc(r.references.join(', ') || '–')}</span>
        ${Object.entries(r.environment).map(([k, v]) => `<span>${esc(k)}</span><span>${esc(v)}</span>`).join('')}
      </div></td></tr>` : '';
    return `<tr class="clickable" data-resource="${esc(r.name)}">
      <td><b>${esc(r.name)}</b></td><td class="muted">${esc(r.type)}</td>
      <td><span class="badge state ${esc(r.state)}">${esc(r.state)}</span></td>
      <td><span class="badge health ${esc(r.health || '')}">${esc(r.health || '–')}</span></td>
      <td>${r.urls.map(u => u.startsWith('http') ? `<a href="${esc(u)}" target="_blank">${esc(u)}</a>` : esc(u)).join('<br>')}</td>
      <td class="muted">${time(r.startTime)}</td><td>${r.replicas}</td><td>${r.restartCount}</td>
      <td>${buttons} <a href="#/console/${encodeURIComponent(r.name)}">console</a></td></tr>${details}`;
  }).join('');
  show(`<h2>Resources</h2><table><thead><tr><th>Name</th><th>Type</th><th>State</th><th>Health</th><th>Endpoints</th>
    <th>Started</th><th>Replicas</th><th>Restarts</th><th></th></tr></thead><tbody>${rows}</tbody></table>${graph()}`, 'resources');
}

function graph() {
  const edges = [...state.resources.values()].filter(r => r.references.length)
    .map(r => `<div><b>${esc(r.name)}</b> → ${r.references.map(esc).join(', ')}</div>`).join('');
  return edges ? `<h2 style="margin-top:1.5rem">References</h2><div class="muted">${edges}</div>` : '';
}

document.addEventListener('click', async e => {
  const button = e.target.closest('button[data-command]');
  const row = e.target.closest('tr[data-resource]');
  if (button && row) {
    e.stopPropagation();
    button.disabled = true;
    try { await api(`resources/${encodeURIComponent(row.dataset.resource)}/commands/${button.dataset.command}`, { method: 'POST' }); }
    catch (err) { alert(err.message); }
    return;
  }
  if (row && !e.target.closest('a')) {
    const name = row.dataset.resource;
    expanded.has(name) ? expanded.delete(name) : expanded.add(name);
    renderResources();
  }
});

// ---- console ------------------------------------------------------------------------------------
async function renderConsole(full) {
  if (state.resources.size === 0) (await api('resources')).forEach(r => state.resources.set(r.name, r));
  if (!full && $('#console')) return;
  const selected = state.route[1] || firstProcess();
  const options = [...state.resources.values()].filter(r => r.type !== 'Parameter')
    .map(r => `<option ${r.name === selected ? 'selected' : ''}>${esc(r.name)}</option>`).join('');
  if (!show(`<div class="toolbar"><h2 style="margin:0">Console</h2><select id="console-resource">${options}</select>
    <button id="pause">${state.paused ? 'Resume' : 'Pause'}</button><span class="muted" id="console-count"></span></div><pre class="console" id="console"></pre>`, 'console')) return;
  $('#console-resource').onchange = e => { location.hash = '#/console/' + encodeURIComponent(e.target.value); };
  state.consoleResource = state.route[1] || firstProcess();
  connect();
  $('#pause').onclick = e => { state.paused = !state.paused; e.target.textContent = state.paused ? 'Resume' : 'Pause'; };
}

function appendConsole(line) {
  const pre = $('#console');
  if (!pre || state.paused || line.resource !== state.consoleResource) return;
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
  const div = document.createElement('div');
  div.className = 'line' + (line.isError ? ' err' : '');
  div.innerHTML = `<span class="muted">${time(line.timestamp)}</span> ${ansi(line.text)}`;
  pre.appendChild(div);
  while (pre.childElementCount > 10000) pre.firstElementChild.remove();
  $('#console-count').textContent = pre.childElementCount + ' lines';
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

// SGR colour codes to spans; every other escape sequence is dropped.
function ansi(text) {
  let html = '', classes = [], open = false;
  for (const part of text.split(/(\x1b\[[0-9;]*[A-Za-z])/)) {
    const m = /^\x1b\[([0-9;]*)m$/.exec(part);
    if (m) {
      for (const code of (m[1] || '0').split(';').map(Number)) {
        if (code === 0 || code === 39) classes = [];
        else if (code === 1) classes.push('ansi-bold');
        else if (code >= 30 && code <= 37) classes.push('ansi-' + code);
        else if (code >= 90 && code <= 97) classes.push('ansi-' + (code - 60), 'ansi-bold');
      }
      if (open) { html += '</span>'; open = false; }
      if (classes.length) { html += `<span class="${classes.join(' ')}">`; open = true; }
    } else if (!part.startsWith('\x1b')) html += esc(part);
  }
  return html + (open ? '</span>' : '');
}

// ---- structured logs ----------------------------------------------------------------------------
const logFilter = { resource: '', level: '', text: '' };
let openLog = null;
async function renderLogs() {
  const q = new URLSearchParams(Object.entries(logFilter).filter(([, v]) => v)); q.set('limit', '300');
  const logs = await api('logs?' + q);
  const resources = [...new Set([...state.resources.values()].filter(r => r.type === 'Project').map(r => r.name))];
  const focused = document.activeElement?.id;
  if (!show(`<div class="toolbar"><h2 style="margin:0">Structured logs</h2>
      <select id="f-resource"><option value="">All resources</option>${resources.map(r => `<option ${r === logFilter.resource ? 'selected' : ''}>${esc(r)}</option>`).join('')}</select>
      <select id="f-level">${['', 'Debug', 'Information', 'Warning', 'Error'].map(l => `<option value="${l}" ${l === logFilter.level ? 'selected' : ''}>${l || 'All levels'}</option>`).join('')}</select>
      <input id="f-text" placeholder="Filter text" value="${esc(logFilter.text)}"></div>
    ${logs.length ? `<table><thead><tr><th>Time</th><th>Resource</th><th>Level</th><th>Message</th><th>Trace</th></tr></thead><tbody>
    ${logs.map((l, i) => `<tr class="clickable log" data-log="${i}"><td class="muted">${time(l.timestamp)}</td><td>${esc(l.resource)}</td>
      <td class="level-${esc(l.level)}">${esc(l.level)}</td><td>${esc(l.message)}</td>
      <td>${l.traceId ? `<a href="#/traces/${esc(l.traceId)}">${esc(l.traceId.slice(0, 8))}</a>` : ''}</td></tr>
      ${openLog === l.timestamp + l.message ? `<tr><td colspan="5" class="details"><div class="kv"><span>Category</span><span>${esc(l.category)}</span>
        ${Object.entries(l.attributes || {}).map(([k, v]) => `<span>${esc(k)}</span><span>${esc(v)}</span>`).join('')}</div></td></tr>` : ''}`).join('')}
    </tbody></table>` : '<p class="empty">No logs yet.</p>'}`, 'logs')) return;
  $('#f-resource').onchange = e => { logFilter.resource = e.target.value; renderLogs(); };
  $('#f-level').onchange = e => { logFilter.level = e.target.value; renderLogs(); };
  $('#f-text').oninput = e => { logFilter.text = e.target.value; clearTimeout(renderLogs.t); renderLogs.t = setTimeout(renderLogs, 250); };
  document.querySelectorAll('tr.log').forEach(tr => tr.onclick = e => {
    if (e.target.closest('a')) return;
    const l = logs[+tr.dataset.log]; openLog = openLog === l.timestamp + l.message ? null : l.timestamp + l.message; renderLogs();
  });
  if (focused === 'f-text') { const input = $('#f-text'); input.focus(); input.setSelectionRange(input.value.length, input.value.length); }
}

// ---- traces -------------------------------------------------------------------------------------
async function renderTraces() {
  const traces = await api('traces?limit=200');
  if (!show(`<h2>Traces</h2>${traces.length ? `<table><thead><tr><th>Time</th><th>Name</th><th>Resources</th><th>Spans</th><th>Duration</th></tr></thead><tbody>
    ${traces.map(t => `<tr class="clickable trace ${t.hasError ? 'error' : ''}" data-trace="${esc(t.traceId)}"><td class="muted">${time(t.start)}</td>
      <td>${esc(t.name)}</td><td>${t.resources.map(r => `<span class="res-tag">${esc(r)}</span>`).join('')}</td><td>${t.spanCount}</td><td>${ms(t.durationMs)}</td></tr>`).join('')}
    </tbody></table>` : '<p class="empty">No traces yet.</p>'}`, 'traces', '')) return;
  document.querySelectorAll('tr.trace').forEach(tr => tr.onclick = () => { location.hash = '#/traces/' + tr.dataset.trace; });
}

let openSpan = null;
async function renderTrace() {
  const trace = await api('traces/' + encodeURIComponent(state.route[1]));
  const total = Math.max(trace.durationMs, 0.001);
  const rows = trace.spans.map(s => `
    <div class="row span" data-span="${esc(s.spanId)}">
      <div class="name" style="padding-left:${s.depth * 14}px" title="${esc(s.name)}">${esc(s.name)}<span class="res-tag">${esc(s.resource)}</span></div>
      <div class="track"><div class="bar ${esc(s.status)}" style="left:${(s.offsetMs / total) * 100}%;width:${(s.durationMs / total) * 100}%"><span>${ms(s.durationMs)}</span></div></div>
    </div>${openSpan === s.spanId ? `<div class="details"><div class="kv"><span>Kind</span><span>${esc(s.kind)}</span><span>Status</span><span>${esc(s.status)} ${esc(s.statusMessage || '')}</span>
      ${Object.entries(s.attributes || {}).map(([k, v]) => `<span>${esc(k)}</span><span>${esc(v)}</span>`).join('')}
      ${(s.events || []).map(ev => `<span>event @ ${ms(ev.offsetMs)}</span><span>${esc(ev.name)}</span>`).join('')}</div></div>` : ''}`).join('');
  if (!show(`<div class="toolbar"><a href="#/traces">← Traces</a><h2 style="margin:0">${esc(trace.spans[0]?.name || trace.traceId)}</h2>
    <span class="muted">${ms(trace.durationMs)} · ${trace.spans.length} spans · ${esc(trace.traceId)}</span></div><div class="waterfall">${rows}</div>`, 'traces', trace.traceId)) return;
  document.querySelectorAll('.row.span').forEach(r => r.onclick = () => { openSpan = openSpan === r.dataset.span ? null : r.dataset.span; renderTrace(); });
}

// ---- metrics ------------------------------------------------------------------------------------
async function renderMetrics() {
  const instruments = await api('metrics');
  const resources = [...new Set(instruments.map(m => m.resource))].sort();
  const resource = state.route[1] || resources[0];
  const name = state.route[2];
  const list = instruments.filter(m => m.resource === resource).map(m => {
    const href = `#/metrics/${encodeURIComponent(m.resource)}/${encodeURIComponent(m.name)}`;
    return `<a href="${href}" class="${m.name === name ? 'active' : ''}" title="${esc(m.description || '')}">${esc(m.name)}</a>`;
  }).join('');
  let charts = '<p class="empty">Choose an instrument.</p>';
  if (resource && name) {
    const data = await api(`metrics/${encodeURIComponent(resource)}/${encodeURIComponent(name)}`);
    charts = `<h2>${esc(data.name)} <span class="muted">${esc(data.unit || '')} · ${esc(data.type)}${data.type === 'counter' ? ' (rate per second)' : ''}</span></h2>
      <div class="charts">${data.series.map(s => chart(s, data.type)).join('') || '<p class="empty">No points yet.</p>'}</div>`;
  }
  const picker = `<select id="m-resource">${resources.map(r => `<option ${r === resource ? 'selected' : ''}>${esc(r)}</option>`).join('')}</select>`;
  if (!show(`<div class="layout"><div class="list"><h2>Metrics</h2>${resources.length ? picker : ''}${list || '<p class="empty">No metrics yet.</p>'}</div><div>${charts}</div></div>`, 'metrics')) return;
  $('#m-resource')?.addEventListener('change', e => { location.hash = '#/metrics/' + encodeURIComponent(e.target.value); });
}

function chart(series, type) {
  const keys = type === 'histogram' ? ['p50', 'p90', 'p99'] : ['value'];
  const colours = ['#4aa3ff', '#d29922', '#f85149'];
  const points = series.points;
  if (points.length === 0) return '';
  const xs = points.map(p => new Date(p.time).getTime());
  // An interval without recordings has no percentiles: leave a gap rather than draw a false zero.
  const ys = points.flatMap(p => keys.map(k => p[k]).filter(v => v != null));
  if (ys.length === 0) return '';
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1], [y0, y1] = [Math.min(0, ...ys), Math.max(...ys, 1e-9)];
  const W = 440, H = 160, px = x => 40 + ((x - x0) / Math.max(x1 - x0, 1)) * (W - 50), py = y => 10 + (1 - (y - y0) / (y1 - y0)) * (H - 30);
  const lines = keys.map((k, i) => `<polyline fill="none" stroke="${colours[i]}" stroke-width="1.6" points="${points.filter(p => p[k] != null).map(p => `${px(new Date(p.time).getTime()).toFixed(1)},${py(p[k]).toFixed(1)}`).join(' ')}"/>`).join('');
  const label = Object.entries(series.attributes || {}).map(([k, v]) => `${k}=${v}`).join(', ') || 'all';
  const legend = keys.length > 1 ? keys.map((k, i) => `<tspan fill="${colours[i]}"> ${k}</tspan>`).join('') : '';
  return `<div class="chart"><div class="muted">${esc(label)}</div><svg viewBox="0 0 ${W} ${H}">
    <text x="2" y="14" fill="#8a96a3" font-size="10">${+y1.toPrecision(3)}</text><text x="2" y="${H - 20}" fill="#8a96a3" font-size="10">${+y0.toPrecision(3)}</text>
    <line x1="40" y1="${H - 20}" x2="${W}" y2="${H - 20}" stroke="#263039"/>${lines}<text x="${W - 120}" y="14" font-size="10">${legend}</text></svg></div>`;
}

// ---- footer -------------------------------------------------------------------------------------
async function footer() {
  try {
    const s = await api('telemetry/stats');
    $('#footer').textContent = Object.entries(s).map(([k, v]) => `${k}: ${v}`).join(' · ');
  } catch { /* the footer is informational */ }
}

window.addEventListener('hashchange', route);
route();
setInterval(footer, 5000); footer();
