/** The parent's side of scenario 6's child processes (bench/fleet-child.ts) and their IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { FleetChildConfig, FleetMessage, ObservedEvent } from './fleet-protocol.js';

const CHILD = fileURLToPath(new URL('./fleet-child.js', import.meta.url));
/** How long a child may take to answer one command (a timed window included). */
const COMMAND_TIMEOUT_MS = 120_000;

/** A child process of bench/fleet-child.ts. */
export class Child {
  private readonly process: ChildProcess;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly events: ObservedEvent[] = [];
  private wake: (() => void) | null = null;
  private nextId = 0;
  private exited: Error | null = null;
  readonly ready: Promise<void>;

  constructor(readonly config: FleetChildConfig) {
    this.process = fork(CHILD, [JSON.stringify(config)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.process.on('message', (message: FleetMessage) => {
        if ('ready' in message) resolve();
        else if ('event' in message) {
          this.events.push(message.event);
          this.wake?.();
        } else {
          const pending = this.waiting.get(message.id);
          this.waiting.delete(message.id);
          if (message.ok) pending?.resolve(message.result);
          else pending?.reject(new Error(`${config.role} child: ${message.error}`));
        }
      });
      this.process.on('exit', (code, signal) => {
        this.exited = new Error(`${config.role} child exited (${code ?? signal})`);
        reject(this.exited);
        for (const p of this.waiting.values()) p.reject(this.exited);
        this.waiting.clear();
        this.wake?.();
      });
    });
  }

  call<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exited !== null) return Promise.reject(this.exited);
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.config.role} child: no answer to ${cmd} in time`));
      }, COMMAND_TIMEOUT_MS);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.process.send({ id, cmd, ...args });
    });
  }

  /** The next observed event of `type` (events of other types before it are dropped). */
  async next(type: ObservedEvent['type'], timeoutMs: number): Promise<ObservedEvent | null> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((e) => e.type === type);
      if (i >= 0) {
        const [event] = this.events.splice(0, i + 1).slice(-1);
        return event ?? null;
      }
      const left = until - performance.now();
      if (left <= 0 || this.exited !== null) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Asks the child to close its Brama and exit by itself; kills it if it does not. */
  async close(): Promise<void> {
    if (this.exited !== null) return;
    const gone = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    try {
      await Promise.race([this.call('close'), sleep(10_000)]);
    } catch {
      // exited or failed: killed below if still alive
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

/** Runs `body` with one child per config, all ready; closes them all afterwards. */
export async function withChildren<T>(
  configs: readonly FleetChildConfig[],
  body: (children: Child[]) => Promise<T>,
): Promise<T> {
  const children = configs.map((c) => new Child(c));
  try {
    await Promise.all(children.map((c) => c.ready));
    return await body(children);
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
}

export function progress(text: string): void {
  process.stderr.write(text);
}
