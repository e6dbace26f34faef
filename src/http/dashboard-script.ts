/**
 * The dashboard's script, part 1: state, network (JSON routes and the event stream read with
 * `fetch`, so the token travels in a header, never in the stream's URL) and event handling.
 * Plain ES2020 in a string: it runs in the browser, not in Node. Everything shown that comes
 * from the server is set with `textContent` or as an attribute value, never parsed as HTML.
 */
export const DASHBOARD_SCRIPT_CORE = String.raw`
'use strict';
var params = new URLSearchParams(location.search);
var token = params.get('token');
var base = location.pathname.charAt(location.pathname.length - 1) === '/' ? location.pathname : location.pathname + '/';
var authHeaders = token ? { Authorization: 'Bearer ' + token } : {};
var RETRY_MS = 2000;
var POLL_MS = 5000;
var MAX_TRANSITIONS = 50;
var ORDER = { open: 0, half_open: 1, unknown: 2, closed: 3 };
var LABEL = { closed: 'closed', open: 'open', half_open: 'half-open', unknown: 'unknown' };
var conns = new Map();
var pending = new Map();
var flushTimer = null;
var healthTimer = null;
var stopped = false;
// The scope filter: undefined = every scope, null = connections without one, else that scope.
var filter = params.has('scope') ? (params.get('scope') === '' ? null : params.get('scope')) : undefined;

function $(id) { return document.getElementById(id); }
function el(tag, cls, text) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}
function keyOf(identifier, scope) { return JSON.stringify([scope === undefined ? null : scope, identifier]); }

function api(path) {
  return fetch(base + path, { headers: authHeaders, cache: 'no-store' }).then(function (res) {
    if (res.status === 401) { unauthorized(); throw new Error('unauthorized'); }
    return res.json();
  });
}

function unauthorized() {
  stopped = true;
  setLive('off', 'not authorized');
  showBanner(token
    ? 'The token in this address was refused.'
    : 'This dashboard needs a token: open it as ' + location.pathname + '?token=<token>.');
}

function showBanner(text) {
  var banner = $('banner');
  banner.textContent = text;
  banner.hidden = false;
}

function setLive(state, text) {
  var live = $('live');
  live.setAttribute('data-live', state);
  live.textContent = text;
}

function loadConnections() {
  var startedAt = Date.now();
  return api('connections').then(function (list) {
    if (!Array.isArray(list)) return;
    var present = new Set();
    list.forEach(function (status) {
      var key = keyOf(status.identifier, status.scope);
      present.add(key);
      var known = conns.get(key);
      // An event newer than this answer already updated the row.
      if (!known || known.eventAt < startedAt) queue(key, status);
    });
    conns.forEach(function (row, key) {
      if (!present.has(key) && row.eventAt < startedAt) queue(key, null);
    });
  });
}

function loadHealth() {
  return api('health').then(renderHealth);
}

function refreshHealthSoon() {
  if (healthTimer !== null) return;
  healthTimer = setTimeout(function () {
    healthTimer = null;
    loadHealth().catch(function () {});
  }, 150);
}

function queue(key, status) {
  pending.set(key, status);
  if (flushTimer === null) flushTimer = setTimeout(flush, 40);
}

function onEvent(event) {
  if (!event || typeof event.type !== 'string') return;
  var data = event.data || {};
  if (event.type === 'store_degraded' || event.type === 'store_recovered') { loadHealth().catch(function () {}); return; }
  if (event.type === 'connection_unregistered' || event.type === 'connection_removed') {
    var gone = conns.get(keyOf(event.identifier, event.scope));
    if (gone) gone.eventAt = Date.now();
    queue(keyOf(event.identifier, event.scope), null);
    refreshHealthSoon();
    return;
  }
  if (data.status && typeof data.status === 'object' && typeof data.status.identifier === 'string') {
    var key = keyOf(data.status.identifier, data.status.scope);
    var row = conns.get(key);
    if (row) row.eventAt = Date.now();
    queue(key, data.status);
  }
  if (event.type === 'state_change') { addTransition(event); refreshHealthSoon(); }
  if (event.type === 'registration') refreshHealthSoon();
}

function handleFrame(frame) {
  var lines = frame.split('\n');
  var data = [];
  for (var i = 0; i < lines.length; i++) {
    var line = lines[i];
    if (line.indexOf('data:') === 0) data.push(line.slice(line.charAt(5) === ' ' ? 6 : 5));
  }
  if (data.length === 0) return;
  try { onEvent(JSON.parse(data.join('\n'))); } catch (_) { /* not an event: skip it */ }
}

function stream() {
  if (stopped) return;
  fetch(base + 'events', { headers: authHeaders, cache: 'no-store' }).then(function (res) {
    if (res.status === 401) { unauthorized(); return; }
    if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
    setLive('on', 'live');
    // Whatever happened while the stream was down: catch up.
    loadConnections().catch(function () {});
    loadHealth().catch(function () {});
    var reader = res.body.getReader();
    var decoder = new TextDecoder();
    var buffer = '';
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) throw new Error('stream ended');
        buffer += decoder.decode(chunk.value, { stream: true });
        var end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          handleFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        return pump();
      });
    }
    return pump();
  }).catch(function () {
    if (stopped) return;
    setLive('off', 'reconnecting');
    setTimeout(stream, RETRY_MS);
  });
}
`;
