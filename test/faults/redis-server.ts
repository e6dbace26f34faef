/**
 * A throwaway `redis-server` child process for fault tests: no persistence, bound to 127.0.0.1
 * on a free port, that a test can kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT) and restart
 * empty on the same port. Test-only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

/** How long a server may take to answer its first PING. */
const START_TIMEOUT_MS = 5_000;
/** How much of the server's output to keep for error messages. */
const LOG_LIMIT = 4_000;

/** Every server still running, killed when this process exits in any way. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});

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

  /** Whether the process is still running (possibly paused). */
  get alive(): boolean {
    return this.exitCode === undefined && this.spawnError === null;
  }

  /**
   * Starts `redis-server` on `port` (a free one when omitted; retried on another free port if
   * that one was taken meanwhile) and resolves once it answers PING. Rejects with the server's
   * output when it cannot start.
   */
  static async start(port?: number): Promise<RedisServer> {
    for (let attempt = 1; ; attempt++) {
      const chosen = port ?? (await freePort());
      try {
        return await RedisServer.startOn(chosen);
      } catch (error) {
        // Only a port picked here can be swapped for another; a given one (a restart) cannot.
        if (port !== undefined || attempt >= 3 || !/already in use/i.test(String(error)))
          throw error;
      }
    }
  }

  private static async startOn(port: number): Promise<RedisServer> {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new RedisServer(port, child);
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
