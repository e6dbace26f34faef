/**
 * The built `brama` CLI against a real Redis, with another process of the fleet running
 * (test/cli/member.mjs): what it sees, what the fleet's events say after an operator's action,
 * and its failures (unknown connection, Redis not answering, bad usage). Needs `npm run build`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, deleteKeys, keysUnder, redisUrl } from '../stores/redis/redis-test-support.js';
import type { StoredConnectionStatus } from './snapshot.js';
import { checkBuilt, Member, runBuiltCli, RunningCli, type CliRun } from './cli-test-support.js';

const describeRedis = redisUrl === undefined ? describe.skip : describe;

/** A single error line, no stack trace. */
function expectOneLine(run: CliRun, pattern: RegExp): void {
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^brama: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describeRedis('brama CLI (built) against Redis, with a fleet member running', () => {
  const url = redisUrl!;
  const prefix = `brama-test-cli-${randomUUID()}`;
  let redis: Redis;
  let member: Member;
  const target = ['--redis', url, '--prefix', prefix];

  beforeAll(async () => {
    checkBuilt();
    redis = connect(url);
    await redis.ping();
    member = new Member(url, prefix, [
      { identifier: 'payments-api', scope: 'billing', failures: 2, successes: 3 },
      { identifier: 'search', failures: 1 },
      { identifier: 'b:c|{a}', scope: 'x:y' },
      { identifier: 'lone \uD800 surrogate' },
      { identifier: 'long-open', options: { expiry: 120_000 } },
    ]);
    await member.ready();
  }, 30_000);

  afterAll(async () => {
    await member?.stop();
    await redis?.quit();
    await deleteKeys(url, prefix);
  });

  async function statusJson(...extra: string[]): Promise<StoredConnectionStatus[]> {
    const run = await runBuiltCli(['status', '--json', ...target, ...extra]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as StoredConnectionStatus[];
  }

  it('status --json lists every stored connection, none of which it registered', async () => {
    const all = await statusJson();
    // Sorted: no scope first, then by scope and identifier.
    expect(all.map((s) => [s.identifier, s.scope])).toEqual([
      ['lone \uD800 surrogate', null],
      ['long-open', null],
      ['search', null],
      ['payments-api', 'billing'],
      ['b:c|{a}', 'x:y'],
    ]);
    const byId = new Map(all.map((s) => [s.identifier, s]));
    expect(all).toHaveLength(5);
    expect(byId.get('payments-api')).toMatchObject({
      scope: 'billing',
      state: 'closed',
      failureCount: 2,
      totalFailures: 2,
      totalSuccesses: 3,
      lastFailureReason: 'boom 2',
    });
    expect(byId.get('search')).toMatchObject({ scope: null, state: 'closed', totalFailures: 1 });
    expect(byId.get('b:c|{a}')).toMatchObject({ scope: 'x:y', state: 'unknown' });
    expect(byId.get('lone \uD800 surrogate')).toMatchObject({ scope: null, state: 'unknown' });
    expect(byId.get('long-open')?.options).toEqual({ expiry: 120_000 });
    // --scope filters; reading is not activity (nothing was created or written).
    expect((await statusJson('--scope', 'billing')).map((s) => s.identifier)).toEqual([
      'payments-api',
    ]);
  });

  it('status prints a table, one row per connection', async () => {
    const run = await runBuiltCli(['status', ...target], {});
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^IDENTIFIER\s+SCOPE\s+STATE\s+FAILURES\s+SUCCESSES\s+IN STATE\s+LAST FAILURE$/,
    );
    expect(lines).toHaveLength(6);
    expect(run.stdout).toMatch(/payments-api\s+billing\s+closed\s+2\/2\s+3\s+\S+\s+boom 2/);
    expect(run.stdout).toContain('lone \\ud800 surrogate');
  });

  it('open: every running process emits circuit_opened with the reason, origin remote', async () => {
    const run = await runBuiltCli(
      [
        'open',
        'payments-api',
        '--scope',
        'billing',
        '--reason',
        'maintenance',
        '--expiry',
        '90000',
      ],
      { BRAMA_REDIS_URL: url, BRAMA_PREFIX: prefix },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^opened "payments-api" \(scope "billing"\): closed -> open until /);
    const event = await member.event((e) => e.type === 'circuit_opened');
    expect(event).toMatchObject({
      identifier: 'payments-api',
      scope: 'billing',
      origin: 'remote',
      reason: 'maintenance',
      state: 'open',
    });
    // The member honours the operator's expiry, not its own.
    expect(event.openUntil! - event.openedAt!).toBe(90_000);
    const [status] = await statusJson('--scope', 'billing');
    // Redis server time (the member's view is in its own clock's time).
    expect(status!.state).toBe('open');
    expect(status!.openUntil! - status!.openedAt!).toBe(90_000);
  });

  it("open without --expiry uses the connection's own stored expiry", async () => {
    const run = await runBuiltCli(['open', 'long-open', ...target]);
    expect(run.code).toBe(0);
    const event = await member.event(
      (e) => e.type === 'circuit_opened' && e.identifier === 'long-open',
    );
    expect(event.openUntil! - event.openedAt!).toBe(120_000);
    expect(event.reason).toBeNull();
  });

  it('close and reset reach the fleet with their reasons', async () => {
    await runBuiltCli(['open', 'search', ...target]);
    await member.event((e) => e.type === 'circuit_opened' && e.identifier === 'search');
    const closed = await runBuiltCli(['close', 'search', '--reason', 'fixed', ...target]);
    expect(closed.code).toBe(0);
    expect(
      await member.event((e) => e.type === 'circuit_closed' && e.identifier === 'search'),
    ).toMatchObject({ origin: 'remote', reason: 'fixed', state: 'closed' });
    const reset = await runBuiltCli([
      'reset',
      'b:c|{a}',
      '--scope',
      'x:y',
      '--reason',
      'clean slate',
      ...target,
    ]);
    expect(reset.code).toBe(0);
    expect(await member.event((e) => e.type === 'circuit_reset')).toMatchObject({
      identifier: 'b:c|{a}',
      scope: 'x:y',
      origin: 'remote',
      reason: 'clean slate',
    });
  });

  it('watch prints one line per change, with the reason, and exits 0 on Ctrl-C', async () => {
    const watch = new RunningCli(['watch', ...target]);
    try {
      await watch.err.waitFor((l) => l.startsWith('brama: watching prefix'));
      expect(watch.out.all[0]).toMatch(/^IDENTIFIER/); // the current state first
      const run = await runBuiltCli(['open', 'search', '--reason', 'deploy 42', ...target]);
      expect(run.code).toBe(0);
      const line = await watch.out.waitFor((l) => / search +open /.test(l));
      expect(line).toMatch(
        /^\d{4}-\d\d-\d\dT\S+Z {2}search {2}open {2}\w+ -> open {2}.*reason "deploy 42"$/,
      );
      await runBuiltCli(['close', 'search', ...target]);
      await watch.out.waitFor((l) => / search +close +open -> closed/.test(l));
    } finally {
      expect(await watch.interrupt()).toBe(0);
    }
    expect(watch.err.all.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('dashboard serves every connection under the prefix and exits 0 on Ctrl-C', async () => {
    const dash = new RunningCli(['dashboard', '--port', '0', ...target]);
    try {
      const line = await dash.out.waitFor((l) => l.startsWith('brama dashboard: '));
      const base = /^brama dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(line)?.[1];
      expect(base).toBeDefined();
      const list = (await (await fetch(`${base}connections`)).json()) as StoredConnectionStatus[];
      expect(list.map((s) => s.identifier).sort()).toEqual(
        ['b:c|{a}', 'lone \uD800 surrogate', 'long-open', 'payments-api', 'search'].sort(),
      );
      expect(list.find((s) => s.identifier === 'long-open')).toMatchObject({ expiry: 120_000 });
      // Registering adopted the shared state: nothing was reset.
      expect(list.find((s) => s.identifier === 'payments-api')).toMatchObject({
        state: 'open',
        totalFailures: 2,
        totalSuccesses: 3,
      });
      const page = await fetch(base!);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      // A connection registered later shows up after a rescan.
      const late = new Member(url, prefix, [{ identifier: 'late-comer' }]);
      try {
        await late.ready();
        await expect
          .poll(
            async () =>
              ((await (await fetch(`${base}connections`)).json()) as StoredConnectionStatus[]).map(
                (s) => s.identifier,
              ),
            { timeout: 8000, interval: 250 },
          )
          .toContain('late-comer');
      } finally {
        await late.stop();
      }
      // Deleted elsewhere (as unregister does): dropped from the page, and never recreated.
      const connections = async (): Promise<string[]> =>
        ((await (await fetch(`${base}connections`)).json()) as StoredConnectionStatus[]).map(
          (s) => s.identifier,
        );
      const doomed = new Member(url, prefix, [{ identifier: 'doomed' }]);
      await doomed.ready();
      await doomed.stop();
      await expect.poll(connections, { timeout: 8000, interval: 250 }).toContain('doomed');
      const keys = (await keysUnder(redis, prefix)).filter((k) => k.includes('doomed'));
      await redis.del(...keys);
      await expect.poll(connections, { timeout: 8000, interval: 250 }).not.toContain('doomed');
      await new Promise((resolve) => setTimeout(resolve, 2500)); // a rescan later
      expect((await keysUnder(redis, prefix)).filter((k) => k.includes('doomed'))).toEqual([]);
    } finally {
      expect(await dash.interrupt()).toBe(0);
    }
    // Stopping the dashboard deleted nothing in Redis.
    expect((await statusJson()).map((s) => s.identifier)).toContain('late-comer');
  });

  it('an unknown connection is exit 1 with one line, and nothing is created', async () => {
    const before = (await keysUnder(redis, prefix)).sort();
    for (const args of [
      ['open', 'nope'],
      ['close', 'payments-api'], // exists only in scope "billing"
      ['reset', 'search', '--scope', 'billing'],
    ]) {
      const run = await runBuiltCli([...args, ...target]);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stdout).toBe('');
      expectOneLine(run, /connection "\w[\w-]*"( \(scope "billing"\))? is not stored under prefix/);
    }
    expect((await keysUnder(redis, prefix)).sort()).toEqual(before);
  });
});

describeRedis('brama CLI (built): failures before and while connecting', () => {
  let blackHole: Server;
  let blackHoleUrl = '';
  const sockets: Socket[] = [];
  let closedPortUrl = '';

  beforeAll(async () => {
    checkBuilt();
    // Accepts connections and never answers.
    blackHole = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    blackHoleUrl = `redis://127.0.0.1:${(blackHole.address() as { port: number }).port}`;
    // A port nothing listens on: open one and close it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPortUrl = `redis://127.0.0.1:${(probe.address() as { port: number }).port}`;
    await new Promise((resolve) => probe.close(resolve));
  });

  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });

  afterAll(async () => {
    await new Promise((resolve) => blackHole.close(resolve));
  });

  it('a Redis that does not answer is exit 1 within about 3 s, naming Redis', async () => {
    const run = await runBuiltCli(['status', '--redis', blackHoleUrl, '--prefix', 'p']);
    expect(run.code).toBe(1);
    expectOneLine(run, /Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer within 3 s/);
    expect(run.ms).toBeGreaterThan(2900);
    expect(run.ms).toBeLessThan(6000);
  });

  it('a closed port is exit 1 at once, naming Redis', async () => {
    const run = await runBuiltCli(['open', 'x', '--redis', closedPortUrl, '--prefix', 'p']);
    expect(run.code).toBe(1);
    expectOneLine(run, /Redis at redis:\/\/127\.0\.0\.1:\d+ is not reachable: .*ECONNREFUSED/);
    expect(run.ms).toBeLessThan(4500);
  });

  it('bad usage is exit 2, checked before connecting', async () => {
    const hole = ['--redis', blackHoleUrl, '--prefix', 'p'];
    const cases: [string[], RegExp][] = [
      [['frobnicate', ...hole], /unknown command "frobnicate"/],
      [['status', '--verbose', ...hole], /unknown option --verbose/],
      [['open', ...hole], /open: missing <identifier>/],
      [['open', 'a', '--expiry', 'soon', ...hole], /bad --expiry "soon"/],
      [['open', 'a', '--expiry', '0', ...hole], /bad --expiry "0"/],
      [['close', 'a', '--expiry', '10', ...hole], /--expiry does not apply to close/],
      [['dashboard', '--port', '70000', ...hole], /bad --port "70000"/],
      [['status', '--prefix', 'p'], /missing --redis/],
      [['status', '--redis', blackHoleUrl], /missing --prefix/],
      [['status', '--redis', 'http://127.0.0.1', '--prefix', 'p'], /bad --redis URL/],
      [['status', '--redis', blackHoleUrl, '--prefix', 'a{b'], /bad --prefix/],
      [[], /missing command/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runBuiltCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expectOneLine(run, pattern);
      expect(run.ms, args.join(' ')).toBeLessThan(2900);
    }
    expect(sockets).toHaveLength(0); // none of them connected
  });

  it('--help is exit 0 on stdout', async () => {
    const all = await runBuiltCli(['--help']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^Usage: brama <command>/);
    const open = await runBuiltCli(['open', '--help']);
    expect(open.code).toBe(0);
    expect(open.stdout).toMatch(/^Usage: brama open <identifier>/);
  });
});
