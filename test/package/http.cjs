// Loads `brama/http` by name from CommonJS; its handler accepts a registry of either build.
// Prints `ok` at the end.
const assert = require('node:assert/strict');
const { Brama } = require('brama');
const { statusHandler } = require('brama/http');

assert.match(require.resolve('brama/http'), /[/\\]dist[/\\]http[/\\]index\.cjs$/);
assert.equal(typeof statusHandler, 'function');

async function main() {
  const esm = await import('brama');
  for (const registry of [new Brama(), new esm.Brama()]) {
    const handler = statusHandler(registry, { token: 't', control: true });
    assert.equal(typeof handler, 'function');
    assert.equal(typeof handler.close, 'function');
    handler.close();
    await registry.close();
  }
  assert.throws(() => statusHandler({}), { code: 'BRAMA_INVALID_ARGUMENT' });
  console.log('ok');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
