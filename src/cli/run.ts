/**
 * The `brama` CLI without the process around it: parses, runs one command, and turns every
 * error into one line on standard error and an exit code (0 success, 1 failure, 2 bad usage).
 */
import { parseCommandLine, type CliCommand } from './args.js';
import { stopped, type CliIo } from './io.js';

/** Exit code of a command interrupted by Ctrl-C before it finished. */
export const INTERRUPTED = 130;

/** One line for any error: its message without a stack (or its text). */
export function errorLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.trim() || 'unknown error';
}

async function execute(cmd: Exclude<CliCommand, { kind: 'help' }>, io: CliIo): Promise<number> {
  switch (cmd.kind) {
    case 'status':
      return (await import('./commands/status.js')).status(cmd, io);
    case 'action':
      return (await import('./commands/action.js')).action(cmd, io);
    case 'watch':
      return (await import('./commands/watch.js')).watch(cmd, io);
    case 'dashboard':
      return (await import('./commands/dashboard.js')).dashboard(cmd, io);
  }
}

/** Runs the CLI with `argv` (after the script name) and `env`; resolves the exit code. */
export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
): Promise<number> {
  let cmd: CliCommand;
  try {
    cmd = parseCommandLine(argv, env);
  } catch (error) {
    io.err(`brama: ${errorLine(error)}\n`);
    return 2;
  }
  if (cmd.kind === 'help') {
    io.out(`${cmd.text}\n`);
    return 0;
  }
  try {
    const run = execute(cmd, io);
    if (cmd.kind === 'watch' || cmd.kind === 'dashboard') return await run;
    // A one-shot command stops waiting at Ctrl-C (its connection may still be pending).
    run.catch(() => undefined);
    return await Promise.race([run, stopped(io.signal).then(() => INTERRUPTED)]);
  } catch (error) {
    io.err(`brama: ${errorLine(error)}\n`);
    return 1;
  }
}
