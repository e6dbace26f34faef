// Loads `brama/http` by name from ESM, serves it on 127.0.0.1 and uses every read route once,
// the event stream included; after the server and the stream close, the process must exit by
// itself (the heartbeat timer is unref()'d). Prints `ok` at the end.
import assert from 'node:assert/strict';
import http from 'node:http';
import process from 'node:process';
import { Brama } from 'brama';
import { statusHandler } from 'brama/http';

if (typeof import.meta.resolve === 'function') {
  assert.match(import.meta.resolve('brama/http'), /\/dist\/http\/index\.js$/);
}
assert.throws(() => statusHandler(new Brama(), { control: true }), {
  code: 'BRAMA_INVALID_OPTION',
});

const fetch = globalThis.fetch;
const brama = new Brama();
brama.register('db', { scope: 'core' });
const server = http.createServer(statusHandler(brama, { critical: ['db'] }));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const page = await fetch(`${base}/`);
assert.equal(page.status, 200);
assert.match(await page.text(), /<!doctype html>/);
assert.deepEqual(
  (await (await fetch(`${base}/connections`)).json()).map((s) => s.identifier),
  ['db'],
);
const metrics = await fetch(`${base}/metrics`);
assert.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);

const received = await new Promise((resolve, reject) => {
  http
    .get(`${base}/events`, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
        if (text.startsWith('retry:') && !text.includes('data:')) {
          brama.openCircuit('db', { scope: 'core', reason: 'drill' });
        }
        if (/"type":"circuit_opened"/.test(text)) {
          res.destroy();
          resolve(text);
        }
      });
    })
    .on('error', reject);
});
assert.match(received, /"reason":"drill"/);
const health = await fetch(`${base}/health`);
assert.equal(health.status, 503);
assert.equal((await health.json()).status, 'down');

server.close();
process.stdout.write('ok\n');
// No handler.close() and no brama.close(): the test checks that the process ends by itself.
