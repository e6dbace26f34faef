// Loads `brama/metrics` by name from CommonJS; @opentelemetry/api is never loaded by brama.
// Prints `ok` at the end.
const assert = require('node:assert/strict');

const loadedOtel = () =>
  Object.keys(require.cache).some((k) => /[/\\]@opentelemetry[/\\]api[/\\]/.test(k));

const { Brama } = require('brama');
const { prometheus } = require('brama/metrics');
assert.equal(loadedOtel(), false, 'brama/metrics loaded @opentelemetry/api');
assert.match(require.resolve('brama/metrics'), /[/\\]dist[/\\]metrics[/\\]index\.cjs$/);

const brama = new Brama();
const exporter = prometheus(brama, { prefix: 'app' });
brama.register('api');
assert.match(
  exporter.metrics(),
  /^app_connection_state\{identifier="api",scope="",state="unknown"\} 1$/m,
);
console.log('ok');
