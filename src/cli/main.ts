#!/usr/bin/env node
/**
 * The `brama` executable (package.json `bin`): `brama --help` lists the commands. Sets the exit
 * code and lets the process end by itself; the commands close everything they open.
 */
import process from 'node:process';
import { INTERRUPTED, runCli } from './run.js';

const controller = new AbortController();
const stop = (): void => controller.abort();
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

void runCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  signal: controller.signal,
}).then((code) => {
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (code === INTERRUPTED) process.exit(code);
  process.exitCode = code;
  // Everything the command opened is closed; ioredis may still hold a timer for a connection
  // that failed (about 2 s). An unref'd timer fires only if something else keeps us alive.
  setTimeout(() => process.exit(code), 100).unref();
});
