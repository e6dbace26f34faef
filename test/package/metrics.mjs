// Loads `brama/metrics` by name from ESM: it must load without @opentelemetry/api (an optional
// peer it never imports), accept a registry of the CommonJS build and render valid text.
// Prints `ok` at the end.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import process from 'node:process';
import { Brama } from 'brama';
import { openTelemetry, prometheus, PROMETHEUS_CONTENT_TYPE } from 'brama/metrics';

const require = createRequire(import.meta.url);
if (typeof import.meta.resolve === 'function') {
  assert.match(import.meta.resolve('brama/metrics'), /\/dist\/metrics\/index\.js$/);
}
assert.equal(typeof openTelemetry, 'function');
assert.throws(() => prometheus(new Brama(), { maxSeries: -1 }), { code: 'BRAMA_INVALID_OPTION' });

for (const Registry of [Brama, require('brama').Brama]) {
  const brama = new Registry();
  const exporter = prometheus(brama);
  assert.equal(exporter.contentType, PROMETHEUS_CONTENT_TYPE);
  brama.register('db', { scope: 'core' });
  brama.success('db', { scope: 'core' });
  const text = exporter.metrics();
  assert.match(text, /^brama_calls_total\{identifier="db",scope="core",outcome="success"\} 1$/m);
  assert.match(text, /^brama_connections 1$/m);
  exporter.close();
}
// The exporter leaves no timer behind: the process exits without close().
process.stdout.write('ok\n');
