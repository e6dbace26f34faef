/**
 * The dashboard's script, part 2: rendering (connection cards, counts, the transitions strip,
 * the scope filter, health) and the start-up. Plain ES2020 in a string, like part 1; DOM nodes
 * are built with `createElement` and filled with `textContent` only.
 */
export const DASHBOARD_SCRIPT_RENDER = String.raw`
function pct(x) {
  if (typeof x !== 'number' || !isFinite(x)) return '\u2014';
  var v = x * 100;
  // Never round a share that is not exactly 0 or 100 % to look like one.
  if (v > 0 && v < 0.1) return '<0.1%';
  if (v > 99.9 && v < 100) return '>99.9%';
  return (v === Math.round(v) ? v.toFixed(0) : v.toFixed(1)) + '%';
}
function num(x) { return typeof x === 'number' ? x.toLocaleString('en-US') : '\u2014'; }
function duration(ms) {
  var s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + 's';
  var m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + (s % 60) + 's';
  var h = Math.floor(m / 60);
  if (h < 24) return h + 'h ' + (m % 60) + 'm';
  return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
}
function reasonText(reason) {
  if (reason === null || reason === undefined) return '';
  if (typeof reason === 'string') return reason;
  try { return JSON.stringify(reason); } catch (_) { return String(reason); }
}
function matches(scope) {
  return filter === undefined || (filter === null ? scope === null || scope === undefined : scope === filter);
}

function card() {
  var node = el('article', 'conn');
  var head = el('div', 'head');
  var sub = el('div', 'sub');
  var parts = {
    ident: el('span', 'ident'), scope: el('span', 'scope'), pill: el('span', 'pill'),
    since: el('span', 'since'), bar: el('div', 'bar'), barFill: el('span'),
    reason: el('p', 'reason'), reasonLabel: el('span', 'label'), reasonText: el('span', 'text'), stats: {}
  };
  head.append(parts.ident, parts.pill);
  sub.append(parts.scope, parts.since);
  var dl = el('dl', 'stats');
  [['success', 'Success rate'], ['failure', 'Failure rate'], ['row', 'In a row'],
   ['successes', 'Successes'], ['failures', 'Failures'], ['policy', 'Trips at']].forEach(function (s) {
    var box = el('div');
    var dd = el('dd');
    box.append(el('dt', '', s[1]), dd);
    dl.append(box);
    parts.stats[s[0]] = dd;
  });
  parts.bar.append(parts.barFill);
  parts.reason.append(parts.reasonLabel, parts.reasonText);
  node.append(head, sub, dl, parts.bar, parts.reason);
  return { el: node, parts: parts, status: null, eventAt: 0, enteredAt: 0, openUntil: null, failedAt: null };
}

function update(row, s) {
  var now = Date.now();
  var serverNow = s.lastStateChangeAt + s.timeSinceLastStateChange;
  var p = row.parts;
  var scope = s.scope === null || s.scope === undefined ? null : String(s.scope);
  row.status = s;
  row.enteredAt = now - s.timeSinceLastStateChange;
  row.openUntil = typeof s.openUntil === 'number' ? now + (s.openUntil - serverNow) : null;
  row.failedAt = typeof s.lastFailureTime === 'number' ? now - (serverNow - s.lastFailureTime) : null;
  row.el.setAttribute('data-identifier', s.identifier);
  row.el.setAttribute('data-scope', scope === null ? '' : scope);
  row.el.setAttribute('data-state', s.state);
  row.el.setAttribute('aria-label', s.identifier + (scope === null ? '' : ' (' + scope + ')') + ': ' + (LABEL[s.state] || s.state));
  p.ident.textContent = s.identifier;
  p.ident.title = s.identifier;
  p.scope.textContent = scope === null ? '' : scope;
  p.scope.title = scope === null ? '' : 'scope ' + scope;
  p.scope.hidden = scope === null;
  p.pill.textContent = LABEL[s.state] || String(s.state);
  p.pill.setAttribute('data-state', s.state);
  var windowed = typeof s.failureRate === 'number';
  var outcomes = s.totalSuccesses + s.totalFailures;
  p.stats.success.textContent = pct(s.successRate);
  p.stats.failure.textContent = windowed ? pct(s.failureRate) : outcomes > 0 ? pct(s.totalFailures / outcomes) : '\u2014';
  p.stats.failure.title = windowed ? 'share of failures in the window (' + s.windowCalls + ' calls)' : 'share of failures since registration';
  p.stats.row.textContent = s.tripPolicy === 'rate' ? num(s.failureCount) : num(s.failureCount) + ' / ' + num(s.maxAttempts);
  p.stats.successes.textContent = num(s.totalSuccesses);
  p.stats.failures.textContent = num(s.totalFailures);
  p.stats.policy.textContent = s.tripPolicy === 'rate' ? '\u2265 ' + pct(s.failureRateThreshold) : num(s.maxAttempts) + ' in a row';
  p.stats.policy.title = s.tripPolicy === 'rate'
    ? 'opens when at least ' + pct(s.failureRateThreshold) + ' of the last calls fail (minimum ' + s.minimumCalls + ' calls)'
    : 'opens after ' + s.maxAttempts + ' failures in a row';
  var rate = typeof s.successRate === 'number' ? s.successRate : 0;
  p.barFill.style.width = (typeof s.successRate === 'number' ? rate * 100 : 0) + '%';
  p.bar.setAttribute('data-bad', rate >= 0.95 ? '0' : rate >= 0.5 ? '1' : '2');
  p.bar.title = 'success rate ' + pct(s.successRate);
  var reason = s.lastFailureReason;
  p.reason.setAttribute('data-none', reason ? '0' : '1');
  p.reasonLabel.textContent = reason ? 'Last failure:' : 'No failure reported';
  p.reasonText.textContent = reason ? String(reason) : '';
  p.reason.title = reason ? String(reason) : '';
  tick(row, now);
}

function tick(row, now) {
  var s = row.status;
  var text = (LABEL[s.state] || s.state) + ' for ' + duration(now - row.enteredAt);
  if (s.state === 'open' && row.openUntil !== null) {
    text += row.openUntil > now ? ' \u00b7 retry in ' + duration(row.openUntil - now + 999) : ' \u00b7 trial on the next call';
  }
  row.parts.since.textContent = text;
  if (s.lastFailureReason) {
    row.parts.reasonLabel.textContent = 'Last failure' + (row.failedAt === null ? '' : ' ' + duration(now - row.failedAt) + ' ago') + ':';
  }
}

function flush() {
  flushTimer = null;
  var reorder = false;
  pending.forEach(function (status, key) {
    var row = conns.get(key);
    if (status === null) {
      if (row) { row.el.remove(); conns.delete(key); }
      return;
    }
    if (!row) { row = card(); conns.set(key, row); reorder = true; }
    if (!row.status || row.status.state !== status.state) reorder = true;
    update(row, status);
  });
  pending.clear();
  if (reorder) sortRows();
  renderScopes();
  applyFilter();
  $('updated').textContent = new Date().toLocaleTimeString();
}

function rank(state) { return ORDER[state] === undefined ? 9 : ORDER[state]; }

function sortRows() {
  var rows = Array.from(conns.values()).sort(function (a, b) {
    var d = rank(a.status.state) - rank(b.status.state);
    if (d !== 0) return d;
    var sa = a.status.scope || '', sb = b.status.scope || '';
    if (sa !== sb) return sa < sb ? -1 : 1;
    return a.status.identifier < b.status.identifier ? -1 : a.status.identifier > b.status.identifier ? 1 : 0;
  });
  var grid = $('connections');
  rows.forEach(function (row) { grid.append(row.el); });
}

function renderScopes() {
  var names = new Set();
  conns.forEach(function (row) { if (row.status.scope !== null && row.status.scope !== undefined) names.add(String(row.status.scope)); });
  if (typeof filter === 'string') names.add(filter);
  var sorted = Array.from(names).sort();
  var select = $('scope');
  var wanted = ['*', '-'].concat(sorted.map(function (n) { return 's:' + n; }));
  var have = Array.from(select.options).map(function (o) { return o.value; });
  if (wanted.join('\u0000') !== have.join('\u0000')) {
    select.replaceChildren(new Option('All scopes', '*'), new Option('(no scope)', '-'));
    sorted.forEach(function (n) { select.append(new Option(n, 's:' + n)); });
  }
  select.value = filter === undefined ? '*' : filter === null ? '-' : 's:' + filter;
}

function applyFilter() {
  var counts = { total: 0, closed: 0, open: 0, half_open: 0, unknown: 0 };
  conns.forEach(function (row) {
    var shown = matches(row.status.scope);
    row.el.hidden = !shown;
    if (!shown) return;
    counts.total++;
    if (counts[row.status.state] !== undefined) counts[row.status.state]++;
  });
  Array.from($('transitions').children).forEach(function (li) {
    li.hidden = !matches(li.getAttribute('data-scope') === '' ? null : li.getAttribute('data-scope'));
  });
  var summary = $('summary');
  summary.replaceChildren();
  [['total', 'connections'], ['closed', 'closed'], ['open', 'open'], ['half_open', 'half-open'], ['unknown', 'unknown']].forEach(function (c) {
    var box = el('div', 'count');
    if (c[0] !== 'total') box.setAttribute('data-state', c[0]);
    box.append(el('b', '', counts[c[0]]), el('span', '', c[1]));
    summary.append(box);
  });
  $('no-connections').hidden = counts.total > 0;
  $('no-transitions').hidden = Array.from($('transitions').children).some(function (li) { return !li.hidden; });
}

function addTransition(event) {
  var d = event.data || {};
  var li = el('li');
  var scope = event.scope === null || event.scope === undefined ? null : String(event.scope);
  li.setAttribute('data-scope', scope === null ? '' : scope);
  var when = new Date(event.timestamp);
  var from = el('span', 'pill', LABEL[d.from] || d.from);
  from.setAttribute('data-state', d.from);
  var to = el('span', 'pill', LABEL[d.to] || d.to);
  to.setAttribute('data-state', d.to);
  var top = el('div', 'line');
  top.append(el('time', '', isNaN(when.getTime()) ? '' : when.toLocaleTimeString()),
    el('span', 'who', String(event.identifier)));
  if (scope !== null) top.append(el('span', 'scope', scope));
  var change = el('div', 'line');
  change.append(from, el('span', 'arrow', '\u2192'), to);
  var why = reasonText(d.reason);
  if (why) change.append(el('span', 'why', why));
  li.append(top, change);
  li.title = String(event.identifier) + (scope === null ? '' : ' (' + scope + ')') + ': ' + d.from + ' \u2192 ' + d.to + (why ? ' \u2014 ' + why : '');
  var list = $('transitions');
  list.prepend(li);
  while (list.children.length > MAX_TRANSITIONS) list.lastElementChild.remove();
  applyFilter();
}

function renderHealth(report) {
  if (!report || typeof report.status !== 'string') return;
  var health = $('health');
  health.setAttribute('data-status', report.status);
  health.textContent = 'Health: ' + report.status;
  var store = $('store');
  store.setAttribute('data-status', report.storeDegraded ? 'degraded' : 'ok');
  store.textContent = report.storeDegraded ? 'Store: degraded (local state)' : 'Store: healthy';
}

$('scope').addEventListener('change', function (e) {
  var v = e.target.value;
  filter = v === '*' ? undefined : v === '-' ? null : v.slice(2);
  var next = new URLSearchParams(location.search);
  if (filter === undefined) next.delete('scope'); else next.set('scope', filter === null ? '' : filter);
  var query = next.toString();
  history.replaceState(null, '', location.pathname + (query ? '?' + query : ''));
  applyFilter();
});

setInterval(function () {
  var now = Date.now();
  conns.forEach(function (row) { tick(row, now); });
}, 1000);
setInterval(function () {
  if (stopped) return;
  loadConnections().catch(function () {});
  loadHealth().catch(function () {});
}, POLL_MS);
renderScopes();
applyFilter();
loadConnections().catch(function () {});
loadHealth().catch(function () {});
stream();
`;
