/**
 * Fault tests of fleet mode (`brama/redis`): each test runs its own `redis-server` child (no
 * persistence, a free port) and kills it, restarts it empty, or pauses it, and checks that
 * callers never see an exception or a hang, that `store_degraded` / `store_recovered` fire once,
 * that the degraded policy applies, and that state reconciles. Skipped when `redisUrl` is
 * undefined (outside CI without REDIS_URL), like the other `*.redis.test.ts` files; when not
 * skipped, a redis-server that cannot start fails the test. More faults (lost replies, black
 * holes, snapshots, eviction) are in convergence-faults.redis.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CircuitOpenError } from '../src/index.js';
import type { DegradedPolicy } from '../src/redis.js';
import { connectionKeys } from '../src/stores/redis/keys.js';
import { redisUrl } from '../src/stores/redis/redis-test-support.js';
import {
  call,
  COMMAND_TIMEOUT,
  degradedOnce,
  eventually,
  FaultFleet,
  RECOVERY_INTERVAL,
  RECOVERY_MS,
  within,
  type Answer,
  type Member,
} from './faults/fleet-support.js';

const describeFaults = redisUrl === undefined ? describe.skip : describe;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describeFaults('fleet mode under Redis faults', () => {
  let fleet: FaultFleet;
  beforeEach(() => {
    fleet = new FaultFleet();
  });
  afterEach(() => fleet.dispose());

  const startServer = (port?: number) => fleet.server(port);
  const member = (url: string, degradedPolicy: DegradedPolicy = 'local'): Promise<Member> =>
    fleet.member(url, {}, { degradedPolicy });
  const rawClient = (url: string) => fleet.raw(url);
  const flush = (...of: Member[]): Promise<unknown> => Promise.all(of.map((m) => m.flush()));

  it('Redis killed mid-run: callers keep getting answers and failures trip the circuit locally', async () => {
    const server = await startServer();
    const a = await member(server.url);
    a.brama.register('db');
    a.brama.register('cache');
    for (let i = 0; i < 5; i++) expect(await call(a.brama, 'cache')).toBe('ok');
    await flush(a);
    expect(a.brama.status('cache').state).toBe('closed');

    // A steady stream of wrapped calls, reads and reports across the kill.
    const answers: Promise<Answer>[] = [];
    let stop = false;
    const stream = (async () => {
      for (let i = 0; !stop; i++) {
        answers.push(call(a.brama, 'cache', i % 3 === 0 ? 'fail' : 'ok', i % 4));
        expect(typeof a.brama.isAvailable('cache')).toBe('boolean');
        expect(() => a.brama.success('cache')).not.toThrow();
        await sleep(2);
      }
    })();
    await eventually(() => expect(answers.length).toBeGreaterThanOrEqual(20));
    await server.kill();
    await degradedOnce(a);
    const atDegraded = answers.length;
    await eventually(() => expect(answers.length).toBeGreaterThanOrEqual(atDegraded + 20));
    stop = true;
    await within(stream, 'the call stream');
    const settled = await Promise.all(answers);
    expect(settled.length).toBeGreaterThanOrEqual(40);
    for (const answer of settled) expect(['ok', 'own', 'refused']).toContain(answer);

    // Degraded, policy 'local': failures trip 'db' in this process.
    expect(a.brama.isAvailable('db')).toBe(true);
    for (let i = 0; i < 3; i++)
      expect(() => a.brama.failure('db', { reason: 'down' })).not.toThrow();
    expect(a.brama.status('db').state).toBe('open');
    expect(a.brama.isAvailable('db')).toBe(false);
    let ran = false;
    const refused = within(
      a.brama.run('db', () => {
        ran = true;
        return Promise.resolve('value');
      }),
      "run('db')",
    );
    await expect(refused).rejects.toBeInstanceOf(CircuitOpenError);
    expect(ran).toBe(false);
    expect(await call(a.brama, 'cache', 'fail')).toMatch(/own|refused/);
    expect(() => a.brama.openCircuit('cache', { reason: 'manual' })).not.toThrow();
    expect(a.brama.isAvailable('cache')).toBe(false);
    expect(() => a.brama.closeCircuit('cache')).not.toThrow();
    expect(a.brama.isAvailable('cache')).toBe(true);
    expect(() => a.brama.success('db')).not.toThrow();
    expect(a.brama.status('db').state).toBe('open'); // a report while open does not close it

    // An observation window over several failed recovery probes: still one store_degraded.
    await sleep(RECOVERY_INTERVAL * 6);
    expect(a.store.degraded).toBe(true);
    expect(a.count('store_degraded')).toBe(1);
    expect(a.count('store_recovered')).toBe(0);
  });

  it('Redis restarted empty: store_recovered fires and the open circuit is recreated in Redis', async () => {
    const server = await startServer();
    const a = await member(server.url);
    a.brama.register('db');
    a.brama.success('db');
    await flush(a);
    expect(a.brama.status('db').state).toBe('closed');

    await server.kill();
    await degradedOnce(a);
    for (let i = 0; i < 3; i++) a.brama.failure('db', { reason: 'down' });
    const local = a.brama.status('db');
    expect(local.state).toBe('open');

    const restarted = await startServer(server.port);
    await eventually(() => expect(a.count('store_recovered')).toBe(1), RECOVERY_MS);
    expect(a.store.degraded).toBe(false);
    const recovered = a.events.find((e) => e.type === 'store_recovered')!;
    expect((recovered.data as { downtimeMs: number }).downtimeMs).toBeGreaterThan(0);
    expect(a.count('store_degraded')).toBe(1);

    // Reconciled before store_recovered: Redis lost the connection, the local view recreated it.
    const raw = rawClient(restarted.url);
    const key = connectionKeys(fleet.prefix, 'db', null).state;
    expect(await within(raw.hget(key, 'state'), 'HGET state')).toBe('open');
    expect(await within(raw.hget(key, 'totalFailures'), 'HGET totalFailures')).toBe('3');
    expect(a.brama.status('db').state).toBe('open');
    expect(a.brama.isAvailable('db')).toBe(false);

    // A process that registers afterwards adopts the open circuit, with the same open period.
    const b = await member(restarted.url);
    b.brama.register('db');
    await flush(b);
    const adopted = b.brama.status('db');
    expect(adopted.state).toBe('open');
    expect(b.brama.isAvailable('db')).toBe(false);
    expect(Math.abs(adopted.openUntil! - local.openUntil!)).toBeLessThan(1_000);
    expect(adopted.totalFailures).toBe(3);
  });

  it('Redis paused (SIGSTOP): degraded without a TCP close, calls answer at once, then reconciles on SIGCONT', async () => {
    const server = await startServer();
    const a = await member(server.url);
    const b = await member(server.url);
    a.brama.register('db');
    b.brama.register('db');
    await flush(a, b);
    a.brama.success('db');
    await flush(a);
    await eventually(() => expect(b.brama.status('db').state).toBe('closed'));

    server.pause();
    const pausedAt = performance.now();
    // A report that Redis will not answer while paused: the watchdog notices.
    a.brama.failure('db', { reason: 'slow' });
    expect(await call(a.brama, 'db')).toBe('ok');
    await degradedOnce(a);
    expect(performance.now() - pausedAt).toBeGreaterThanOrEqual(COMMAND_TIMEOUT - 10);
    expect(server.paused && server.alive).toBe(true); // nothing closed the connection
    const { error } = a.events.find((e) => e.type === 'store_degraded')!.data as {
      error: Error;
    };
    expect(error.message).toContain(`${COMMAND_TIMEOUT} ms`);

    // Degraded, policy 'local': answers come at once and failures trip the circuit locally.
    expect(await call(a.brama, 'db')).toBe('ok');
    for (let i = 0; i < 3; i++) a.brama.failure('db', { reason: 'down' });
    expect(a.brama.status('db').state).toBe('open');
    expect(a.brama.isAvailable('db')).toBe(false);
    expect(await call(a.brama, 'db')).toBe('refused');

    // Another process changes the circuit; its command waits in the socket until Redis resumes.
    b.brama.openCircuit('db', { reason: 'maintenance', expiry: 300_000 });

    server.resume();
    await eventually(() => expect(a.count('store_recovered')).toBe(1), RECOVERY_MS);
    expect(a.store.degraded).toBe(false);
    expect(a.count('store_degraded')).toBe(1);

    // Redis wins: A's view now holds the circuit B opened (a 300 s opening, not A's local 60 s).
    const raw = rawClient(server.url);
    const key = connectionKeys(fleet.prefix, 'db', null).state;
    expect(await within(raw.hget(key, 'state'), 'HGET state')).toBe('open');
    const totalFailures = Number(await within(raw.hget(key, 'totalFailures'), 'HGET'));
    await eventually(() => {
      const status = a.brama.status('db');
      expect(status.state).toBe('open');
      expect(status.openUntil! - Date.now()).toBeGreaterThan(200_000);
      expect(status.totalFailures).toBe(totalFailures);
    });

    // After the resume, changes made by another process reach A again.
    await eventually(() => expect(b.store.degraded).toBe(false), RECOVERY_MS);
    b.brama.closeCircuit('db', { reason: 'fixed' });
    await eventually(() => expect(a.brama.status('db').state).toBe('closed'));
    expect(a.brama.isAvailable('db')).toBe(true);
    expect(await within(raw.hget(key, 'state'), 'HGET state')).toBe('closed');
  });

  it("policy 'allow' admits calls on an open circuit while degraded", async () => {
    const server = await startServer();
    const a = await member(server.url, 'allow');
    a.brama.register('db');
    a.brama.openCircuit('db');
    await flush(a);
    expect(a.brama.isAvailable('db')).toBe(false);

    await server.kill();
    await degradedOnce(a);
    expect(a.brama.status('db').state).toBe('open');
    expect(a.brama.isAvailable('db')).toBe(true);
    expect(await call(a.brama, 'db')).toBe('ok');
    expect(await call(a.brama, 'db', 'fail')).toBe('own');
    expect(a.brama.status('db').totalFailures).toBe(1); // outcomes are still recorded locally
  });

  it("policy 'refuse' refuses calls on a closed circuit while degraded, until Redis is back", async () => {
    const server = await startServer();
    const a = await member(server.url, 'refuse');
    a.brama.register('db');
    a.brama.success('db');
    await flush(a);
    expect(a.brama.status('db').state).toBe('closed');
    expect(a.brama.isAvailable('db')).toBe(true);

    await server.kill();
    await degradedOnce(a);
    expect(a.brama.status('db').state).toBe('closed');
    expect(a.brama.isAvailable('db')).toBe(false);
    expect(await call(a.brama, 'db')).toBe('refused');

    await startServer(server.port);
    await eventually(() => expect(a.count('store_recovered')).toBe(1), RECOVERY_MS);
    expect(a.brama.isAvailable('db')).toBe(true);
    expect(await call(a.brama, 'db')).toBe('ok');
  });

  it('a process whose Redis dies mid-run has no unhandled rejection and exits by itself after close()', async () => {
    const built = ['dist/index.js', 'dist/redis/index.js'].filter(
      (file) => !existsSync(join(root, file)),
    );
    if (built.length > 0) {
      throw new Error(
        `dist/ is missing ${built.join(', ')}: run \`npm run build\` first ` +
          '(`npm test` builds before running the tests)',
      );
    }
    const server = await startServer();
    const child = spawn(process.execPath, [join(root, 'test/faults/kill-and-close.mjs')], {
      cwd: root,
      env: {
        ...process.env,
        FAULT_REDIS_URL: server.url,
        FAULT_REDIS_PID: String(server.pid),
        FAULT_PREFIX: fleet.prefix,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let closedAt: number | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (closedAt === null && stdout.includes('closed\n')) closedAt = performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const { code, signal } = await exit.finally(() => clearTimeout(killer));
    const exitedAt = performance.now();
    const report = `exit code ${code}, signal ${signal}\nstdout:\n${stdout}\nstderr:\n${stderr}`;

    expect(signal, `killed: it did not exit by itself\n${report}`).toBeNull();
    expect(stderr, report).not.toContain('unhandled rejection');
    // Closing must not leave ioredis without an 'error' listener while it still reconnects: it
    // would print "[ioredis] Unhandled error event" to the console of the application.
    expect(stderr, report).not.toContain('Unhandled error event');
    expect(code, report).toBe(0);
    expect(closedAt, report).not.toBeNull();
    expect(exitedAt - closedAt!, report).toBeLessThan(3_000);
    await eventually(() => expect(server.alive).toBe(false)); // the child killed it mid-run
  });
});
