/**
 * A throwaway `redis-server` child process for fault tests: bound to 127.0.0.1 on a free port,
 * that a test can kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT) and restart on the same port:
 * empty by default (no persistence), or from the last SAVE when given a `dir`. Test-only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve as absolutePath } from 'node:path';

/** How long a server may take to answer its first PING. */
const START_TIMEOUT_MS = 5_000;
/** How much of the server's output to keep for error messages. */
const LOG_LIMIT = 4_000;

/** Every server still running, killed when this process exits in any way. */
const running = new Set<ChildProcess>();
/** Every directory made by `RedisServer.tempDir()`, removed (after the kills) at exit. */
const tempDirs = new Set<string>();
process.once('exit', () => {
  for (const child of running) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** How to run a server besides its port. */
export interface RedisServerOptions {
  /**
   * A working directory for persistence (`--dir`, `--dbfilename dump.rdb`): the server loads
   * `dump.rdb` from it at start when present, and SAVE writes it. No automatic snapshots either
   * way. Without `dir`, Redis uses this process's working directory: a SAVE there would write
   * (and a restart load) a `dump.rdb` in the repository, so tests that SAVE pass a `dir`.
   */
  readonly dir?: string;
  /**
   * Extra command-line arguments, passed after the defaults so they can override them.
   * @example ['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru']
   */
  readonly args?: readonly string[];
}

/** A port nobody listens on right now (listen on port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** One `redis-server` process. */
export class RedisServer {
  private exited: Promise<void>;
  private log = '';
  private exitCode: number | null | undefined = undefined;
  private spawnError: Error | null = null;
  /** Whether the process is stopped by SIGSTOP. */
  paused = false;

  private constructor(
    readonly port: number,
    /** The options it was started with (a restart reuses them). */
    readonly options: RedisServerOptions,
    private readonly child: ChildProcess,
  ) {
    running.add(child);
    const keep = (chunk: Buffer): void => {
      this.log = (this.log + chunk.toString('utf8')).slice(-LOG_LIMIT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.spawnError = error;
        running.delete(child);
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal === null ? null : -1);
        running.delete(child);
        resolve();
      });
    });
  }

  /** The URL to connect to. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The tail of the server's stdout and stderr (its log), for error messages. */
  get output(): string {
    return this.log;
  }

  /** Whether the process is still running (possibly paused). */
  get alive(): boolean {
    return this.exitCode === undefined && this.spawnError === null;
  }

  /**
   * Starts `redis-server` on `port` (a free one when omitted; retried on another free port if
   * that one was taken meanwhile) and resolves once it answers PING (after loading `dump.rdb`
   * when `options.dir` has one). Rejects with the server's output when it cannot start.
   */
  static async start(port?: number, options: RedisServerOptions = {}): Promise<RedisServer> {
    // A copy, so that a restart uses what this start used even if the caller's object changes.
    const frozen: RedisServerOptions = Object.freeze({
      ...options,
      ...(options.args === undefined ? {} : { args: Object.freeze([...options.args]) }),
    });
    for (let attempt = 1; ; attempt++) {
      const chosen = port ?? (await freePort());
      try {
        return await RedisServer.startOn(chosen, frozen);
      } catch (error) {
        // Only a port picked here can be swapped for another; a given one (a restart) cannot.
        if (port !== undefined || attempt >= 3 || !/already in use/i.test(String(error)))
          throw error;
      }
    }
  }

  /**
   * Creates a fresh directory under the OS temp dir for `options.dir`; it is removed when this
   * process exits (a test may remove it earlier, once its servers are killed).
   */
  static tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'brama-redis-'));
    tempDirs.add(dir);
    return dir;
  }

  private static async startOn(port: number, options: RedisServerOptions): Promise<RedisServer> {
    const args = ['--port', String(port), '--bind', '127.0.0.1'];
    args.push('--save', '', '--appendonly', 'no');
    // With AOF off, a server loads the RDB file of its --dir at start: a restart from a snapshot.
    if (options.dir !== undefined)
      args.push('--dir', absolutePath(options.dir), '--dbfilename', 'dump.rdb');
    args.push(...(options.args ?? []));
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new RedisServer(port, options, child);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (!server.alive) throw server.failure('exited before answering PING');
      if (await ping(port)) return server;
      if (Date.now() > deadline) {
        await server.kill();
        throw server.failure(`did not answer PING within ${START_TIMEOUT_MS} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private failure(what: string): Error {
    const cause =
      this.spawnError === null
        ? ''
        : (this.spawnError as NodeJS.ErrnoException).code === 'ENOENT'
          ? ' (redis-server is not on the PATH)'
          : ` (${this.spawnError.message})`;
    return new Error(
      `redis-server on port ${this.port} ${what}${cause}; exit code ${String(this.exitCode)}; ` +
        `output:\n${this.log}`,
    );
  }

  /** Stops the process with SIGSTOP: it keeps its sockets open but answers nothing. */
  pause(): void {
    if (!this.alive) return;
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  /** Resumes a paused process with SIGCONT. */
  resume(): void {
    if (!this.alive) return;
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  /** SIGKILLs the process (resuming it first if paused) and waits until it has exited. */
  async kill(): Promise<void> {
    if (this.alive) {
      this.child.kill('SIGCONT');
      this.paused = false;
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  /**
   * SIGKILLs this server and starts a new one on the same port with the same options: empty, or
   * with `dir`, holding what the last SAVE wrote. This instance stays dead; use the one returned.
   */
  async restart(): Promise<RedisServer> {
    await this.kill();
    return RedisServer.start(this.port, this.options);
  }
}

/** Whether a Redis answers PING on `port` within a short time (a raw RESP exchange). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let answer = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 500);
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}
