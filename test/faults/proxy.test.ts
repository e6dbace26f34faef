/**
 * Tests of `FaultProxy` against a small echo server on 127.0.0.1 (no Redis needed): every mode,
 * switches on live connections, reset, refuse, close, and socket errors on either side that must
 * tear a connection down instead of escaping (vitest fails a run on any unhandled 'error').
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from './proxy.js';

/** Only to keep a broken test from hanging: nothing here should take close to this. */
const DEADLINE_MS = 5_000;

/** Polls `check` until it stops throwing, or fails with its last error after the deadline. */
async function eventually(check: () => void): Promise<void> {
  const deadline = performance.now() + DEADLINE_MS;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(5);
    }
  }
}

/** A socket on the far side of the proxy, with what it received and how it ended. */
interface Peer {
  readonly socket: Socket;
  data: string;
  closed: boolean;
  error: NodeJS.ErrnoException | undefined;
}

function track(socket: Socket): Peer {
  const peer: Peer = { socket, data: '', closed: false, error: undefined };
  socket.on('data', (chunk: Buffer) => (peer.data += chunk.toString('utf8')));
  socket.on('error', (error) => (peer.error = error));
  socket.on('close', () => (peer.closed = true));
  return peer;
}

/** An echo server that also records, per accepted connection, what it received. */
interface Echo {
  readonly server: Server;
  readonly port: number;
  readonly peers: Peer[];
  readonly times: number[];
}

let echoes: Echo[] = [];
let proxies: FaultProxy[] = [];
let clients: Socket[] = [];

afterEach(async () => {
  for (const client of clients) client.destroy();
  clients = [];
  await Promise.all(proxies.map((p) => p.close()));
  proxies = [];
  for (const echo of echoes) {
    for (const peer of echo.peers) peer.socket.destroy();
    echo.server.close();
  }
  echoes = [];
});

async function startEcho(): Promise<Echo> {
  const server = createServer();
  const echo: Echo = { server, port: 0, peers: [], times: [] };
  server.on('connection', (socket) => {
    const peer = track(socket);
    socket.on('data', (chunk: Buffer) => {
      echo.times.push(performance.now());
      if (socket.writable) socket.write(chunk);
    });
    echo.peers.push(peer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no echo port');
  echoes.push(echo);
  return Object.assign(echo, { port: address.port });
}

/** An echo server behind a fresh proxy. */
async function setup(): Promise<{ echo: Echo; proxy: FaultProxy }> {
  const echo = await startEcho();
  const proxy = await FaultProxy.start(echo.port);
  proxies.push(proxy);
  return { echo, proxy };
}

/** A client connecting to `port`, whether or not the connect succeeds. */
function open(port: number): Peer {
  const socket = createConnection({ host: '127.0.0.1', port });
  clients.push(socket);
  return track(socket);
}

/** A client connected to `port` (resolves on connect; a refused connect rejects). */
async function dial(port: number): Promise<Peer> {
  const peer = open(port);
  const { socket } = peer;
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return peer;
}

/** Sends `text` and waits until the echo comes back to `peer`. */
async function roundTrip(peer: Peer, text: string): Promise<void> {
  const expected = peer.data + text;
  peer.socket.write(text);
  await eventually(() => expect(peer.data).toBe(expected));
}

describe('FaultProxy', () => {
  it('listens on loopback and forwards both ways by default', async () => {
    const { echo, proxy } = await setup();
    expect(proxy.mode).toBe('pass');
    expect(proxy.url).toBe(`redis://127.0.0.1:${proxy.port}`);
    expect(proxy.port).not.toBe(echo.port);
    const client = await dial(proxy.port);
    await roundTrip(client, 'hello');
    expect(echo.peers.map((p) => p.data)).toEqual(['hello']);
    expect(proxy.connections).toBe(1);
    expect(proxy.stats).toEqual({ received: 10, forwarded: 10, discarded: 0 });
  });

  it('delay(ms) holds each chunk at least ms per direction and keeps the order', async () => {
    const { echo, proxy } = await setup();
    const client = await dial(proxy.port);
    proxy.delay(100);
    const sent = performance.now();
    client.socket.write('a');
    await eventually(() => expect(proxy.stats.received).toBe(1));
    client.socket.write('b');
    await eventually(() => expect(client.data).toBe('ab'));
    const back = performance.now();
    // Lower bounds only (a slow machine makes them larger, never smaller); 2 ms for timer rounding.
    expect(echo.times[0]! - sent).toBeGreaterThanOrEqual(98);
    expect(back - sent).toBeGreaterThanOrEqual(198);
    expect(echo.peers[0]!.data).toBe('ab');
  });

  it('a chunk sent after delay() switched to pass() does not overtake a delayed one', async () => {
    const { echo, proxy } = await setup();
    const client = await dial(proxy.port);
    proxy.delay(300);
    client.socket.write('a');
    await eventually(() => expect(proxy.stats.received).toBe(1)); // 'a' is queued
    proxy.heal();
    client.socket.write('b');
    await eventually(() => expect(client.data).toBe('ab'));
    expect(echo.peers[0]!.data).toBe('ab');
  });

  it('blackhole() drops what delay() still held, and what arrives while black-holed', async () => {
    const { echo, proxy } = await setup();
    const client = await dial(proxy.port);
    proxy.delay(60_000);
    client.socket.write('held');
    await eventually(() => expect(proxy.stats.received).toBe(4));
    proxy.blackhole();
    expect(proxy.stats.discarded).toBe(4);
    client.socket.write('lost');
    await eventually(() => expect(proxy.stats.discarded).toBe(8));
    proxy.heal();
    await roundTrip(client, 'after');
    expect(echo.peers[0]!.data).toBe('after');
  });

  it('blackhole() keeps live and new connections open, swallows both ways, heals cleanly', async () => {
    const { echo, proxy } = await setup();
    const first = await dial(proxy.port);
    await roundTrip(first, 'one');
    proxy.blackhole();
    expect(proxy.mode).toBe('blackhole');

    first.socket.write('lost');
    await eventually(() => expect(proxy.stats.discarded).toBe(4));
    echo.peers[0]!.socket.write('push'); // server → client is swallowed too
    await eventually(() => expect(proxy.stats.discarded).toBe(8));

    const second = await dial(proxy.port); // accepted, and black-holed
    second.socket.write('zz');
    await eventually(() => expect(proxy.stats.discarded).toBe(10));
    expect(proxy.connections).toBe(2);
    expect(echo.peers).toHaveLength(1); // nothing reached the server for it
    expect(first.data).toBe('one');
    expect(second.data).toBe('');

    proxy.heal();
    await roundTrip(first, 'back'); // only bytes sent after the switch arrive
    expect(echo.peers[0]!.data).toBe('oneback');
    await roundTrip(second, 'two'); // the connection accepted while black-holed now works
    expect(echo.peers.map((p) => p.data)).toEqual(['oneback', 'two']);
    expect(first.closed || second.closed).toBe(false);
  });

  it('dropReplies() lets commands through and loses the answers', async () => {
    const { echo, proxy } = await setup();
    const client = await dial(proxy.port);
    await roundTrip(client, 'a');
    proxy.dropReplies();
    client.socket.write('cmd');
    await eventually(() => expect(echo.peers[0]!.data).toBe('acmd'));
    await eventually(() => expect(proxy.stats.discarded).toBe(3)); // the echo of 'cmd'

    const late = await dial(proxy.port); // a new connection behaves the same
    late.socket.write('x');
    await eventually(() => expect(echo.peers[1]?.data).toBe('x'));
    await eventually(() => expect(proxy.stats.discarded).toBe(4));
    expect(client.data).toBe('a');
    expect(late.data).toBe('');

    proxy.heal();
    await roundTrip(client, 'next');
    expect(client.data).toBe('anext');
  });

  it('refuse() closes new connections at once and leaves existing ones working', async () => {
    const { echo, proxy } = await setup();
    const existing = await dial(proxy.port);
    await roundTrip(existing, 'x');
    proxy.refuse();
    // The kernel completes the handshake and the proxy resets the socket right away: the RST may
    // beat the client's 'connect' (a "connect ECONNRESET" error) or follow it (ECONNRESET).
    const refused = open(proxy.port);
    await eventually(() => expect(refused.closed).toBe(true));
    expect(refused.error?.code).toBe('ECONNRESET');
    expect(proxy.connections).toBe(1);
    expect(echo.peers).toHaveLength(1);
    await roundTrip(existing, 'y');

    proxy.heal();
    const later = await dial(proxy.port);
    await roundTrip(later, 'z');
  });

  it('reset() destroys every connection on both sides abruptly and keeps the mode', async () => {
    const { echo, proxy } = await setup();
    const a = await dial(proxy.port);
    const b = await dial(proxy.port);
    await roundTrip(a, 'a');
    await roundTrip(b, 'b');
    proxy.blackhole();
    proxy.reset();
    await eventually(() => expect([a.closed, b.closed]).toEqual([true, true]));
    await eventually(() => expect(echo.peers.map((p) => p.closed)).toEqual([true, true]));
    // An RST makes the reading side fail with ECONNRESET (a FIN would be a clean close).
    expect([a.error?.code, b.error?.code]).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(echo.peers.map((p) => p.error?.code)).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(proxy.connections).toBe(0);
    expect(proxy.mode).toBe('blackhole');

    const c = await dial(proxy.port); // still black-holed
    c.socket.write('q');
    await eventually(() => expect(proxy.stats.discarded).toBe(1));
    expect(echo.peers).toHaveLength(2);
  });

  it('close() ends everything, refuses further connects, and is idempotent', async () => {
    const { echo, proxy } = await setup();
    const client = await dial(proxy.port);
    await roundTrip(client, 'x');
    await proxy.close();
    await eventually(() => expect(client.closed).toBe(true));
    await eventually(() => expect(echo.peers[0]!.closed).toBe(true));
    expect(proxy.connections).toBe(0);
    await expect(dial(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.close();
  });

  it('a target that resets or closes is passed on; one that is down closes the client', async () => {
    const { echo, proxy } = await setup();
    const reset = await dial(proxy.port);
    await roundTrip(reset, 'r');
    echo.peers[0]!.socket.resetAndDestroy();
    await eventually(() => expect(reset.closed).toBe(true));
    expect(reset.error?.code).toBe('ECONNRESET');

    const ended = await dial(proxy.port);
    await roundTrip(ended, 'e');
    echo.peers[1]!.socket.end('bye'); // the last bytes arrive before the clean close
    await eventually(() => expect(ended.closed).toBe(true));
    expect(ended.data).toBe('ebye');
    expect(ended.error).toBeUndefined();

    const downProxy = await FaultProxy.start(echo.port);
    proxies.push(downProxy);
    echo.server.close();
    const orphan = await dial(downProxy.port); // nothing listens behind it any more
    await eventually(() => expect(orphan.closed).toBe(true));
    expect(downProxy.connections).toBe(0);
  });

  it('a client that resets or closes takes its server connection down with it', async () => {
    const { echo, proxy } = await setup();
    const rude = await dial(proxy.port);
    await roundTrip(rude, 'r');
    rude.socket.resetAndDestroy();
    await eventually(() => expect(echo.peers[0]!.closed).toBe(true));

    const polite = await dial(proxy.port);
    await roundTrip(polite, 'p');
    polite.socket.end();
    await eventually(() => expect(echo.peers[1]!.closed).toBe(true));
    await eventually(() => expect(proxy.connections).toBe(0));
  });

  it('a target lost while black-holed keeps the client open until heal() reveals it', async () => {
    const { echo, proxy } = await setup();
    const client = await dial(proxy.port);
    await roundTrip(client, 'x');
    proxy.blackhole();
    echo.peers[0]!.socket.resetAndDestroy();
    await eventually(() => expect(echo.peers[0]!.closed).toBe(true));
    await sleep(50); // time for the proxy to see the RST (it must not pass it on)
    expect(client.closed).toBe(false);
    expect(proxy.connections).toBe(1);
    proxy.heal();
    await eventually(() => expect(client.closed).toBe(true));
    expect(client.error?.code).toBe('ECONNRESET');
  });

  it('rejects a bad target port and a bad delay', async () => {
    await expect(FaultProxy.start(0)).rejects.toThrow(RangeError);
    const { proxy } = await setup();
    expect(() => proxy.delay(-1)).toThrow(/delay ms/);
    expect(() => proxy.delay(Number.NaN)).toThrow(/delay ms/);
    expect(proxy.mode).toBe('pass');
  });
});
