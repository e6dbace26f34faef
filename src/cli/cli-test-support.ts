/**
 * Test-only helpers of the CLI's `*.redis.test.ts` (never imported by the library): the BUILT
 * CLI as a real subprocess, and fleet members (test/cli/member.mjs) that print their events.
 */
import {
  spawn,
  type ChildProcess,
  type ChildProcessByStdio as ChildProcessByStdio_,
} from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const root = join(import.meta.dirname, '../..');
/** The built CLI (package.json `bin`). */
export const CLI = join(root, 'dist/esm/cli/main.js');
const MEMBER = join(root, 'test/cli/member.mjs');

/** Throws when dist/ lacks what the tests run. */
export function checkBuilt(): void {
  for (const file of [CLI, join(root, 'dist/redis/index.js')]) {
    if (!existsSync(file)) {
      throw new Error(
        `${file} is missing: run \`npm run build\` first (\`npm test\` builds before the tests)`,
      );
    }
  }
}

/** What a finished CLI run printed, its exit code and how long it took. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function spawnCli(args: string[], env: Record<string, string>): ChildProcessByStdio {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('BRAMA_')),
  );
  return spawn(process.execPath, [CLI, ...args], {
    cwd: root,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

type ChildProcessByStdio = ChildProcessByStdio_<null, Readable, Readable>;

/** Runs the built CLI with `args` (no BRAMA_* variables unless given in `env`). */
export function runBuiltCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const started = performance.now();
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** A long-running CLI command (watch, dashboard): its output lines and exit code. */
export class RunningCli {
  readonly child: ChildProcessByStdio;
  readonly out: Lines;
  readonly err: Lines;
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawnCli(args, {});
    this.out = new Lines(this.child.stdout);
    this.err = new Lines(this.child.stderr);
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Sends Ctrl-C (SIGINT) and resolves the exit code (killed after 5 s). */
  async interrupt(): Promise<number | null> {
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Lines a child process printed, with a way to wait for one. */
export class Lines {
  readonly all: string[] = [];
  private waiters: (() => void)[] = [];

  constructor(stream: NodeJS.ReadableStream) {
    createInterface({ input: stream }).on('line', (line) => {
      this.all.push(line);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves the first line (from the start) matching `test`; rejects after `ms`. */
  async waitFor(test: (line: string) => boolean, ms = 8000): Promise<string> {
    const deadline = performance.now() + ms;
    for (;;) {
      const found = this.all.find(test);
      if (found !== undefined) return found;
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(`no matching line within ${ms} ms; got:\n${this.all.join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** A connection a member registers (and the outcomes it reports). */
export interface MemberConnection {
  identifier: string;
  scope?: string | null;
  failures?: number;
  successes?: number;
  options?: Record<string, unknown>;
}

/** An event as a member prints it. */
export interface MemberEvent {
  type: string;
  identifier: string;
  scope: string | null;
  origin: string | null;
  reason: string | null;
  state: string | null;
  openedAt: number | null;
  openUntil: number | null;
}

/** A running fleet process (test/cli/member.mjs). */
export class Member {
  readonly child: ChildProcess;
  readonly lines: Lines;
  readonly exited: Promise<void>;

  constructor(url: string, prefix: string, connections: MemberConnection[]) {
    this.child = spawn(process.execPath, [MEMBER, JSON.stringify({ url, prefix, connections })], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.lines = new Lines(this.child.stdout!);
    this.exited = new Promise((resolve) => this.child.on('close', () => resolve()));
  }

  /** Resolves once its connections are registered and their outcomes applied in Redis. */
  async ready(): Promise<void> {
    await this.lines.waitFor((l) => l === '{"ready":true}', 15_000);
  }

  /** The first event (from the start) matching `test`. */
  async event(test: (e: MemberEvent) => boolean): Promise<MemberEvent> {
    const line = await this.lines.waitFor((l) => {
      const parsed = JSON.parse(l) as { event?: MemberEvent };
      return parsed.event !== undefined && test(parsed.event);
    });
    return (JSON.parse(line) as { event: MemberEvent }).event;
  }

  /** Ends the process (closing its stdin) and waits for it. */
  async stop(): Promise<void> {
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
