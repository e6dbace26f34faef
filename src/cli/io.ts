/** Where a CLI command writes, and how it learns that it should stop (Ctrl-C). */
export interface CliIo {
  /** Writes to standard output. */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /** Aborted on SIGINT or SIGTERM: long-running commands (watch, dashboard) end with 0. */
  readonly signal: AbortSignal;
}

/** Resolves when `signal` aborts (at once when it already has). */
export function stopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
