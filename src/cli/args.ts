/**
 * The `brama` command line: parsing and every usage check, before anything connects to Redis.
 * A usage error is a `BRAMA_INVALID_ARGUMENT` error whose message is the one line to print.
 */
import { parseArgs } from 'node:util';
import { BramaError } from '../core/errors.js';
import { checkCircuitOption } from '../core/settings.js';
import { checkPrefix } from '../stores/redis/keys.js';
import { checkUrl } from '../stores/redis/options.js';

/** Where the fleet's state lives: a Redis URL and the key prefix its processes use. */
export interface Target {
  readonly url: string;
  readonly prefix: string;
}

/** A manual action the CLI applies fleet-wide. */
export type CliAction = 'open' | 'close' | 'reset';

/** A parsed command line. */
export type CliCommand =
  | { readonly kind: 'help'; readonly text: string }
  | {
      readonly kind: 'status';
      readonly target: Target;
      readonly scope: string | null;
      readonly json: boolean;
    }
  | { readonly kind: 'watch'; readonly target: Target; readonly scope: string | null }
  | {
      readonly kind: 'action';
      readonly action: CliAction;
      readonly target: Target;
      readonly identifier: string;
      readonly scope: string | null;
      readonly reason: string | null;
      readonly expiry: number | null;
    }
  | {
      readonly kind: 'dashboard';
      readonly target: Target;
      readonly host: string;
      readonly port: number;
    };

const COMMON = ['redis', 'prefix', 'help'] as const;
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  status: [...COMMON, 'scope', 'json'],
  watch: [...COMMON, 'scope'],
  open: [...COMMON, 'scope', 'reason', 'expiry'],
  close: [...COMMON, 'scope', 'reason'],
  reset: [...COMMON, 'scope', 'reason'],
  dashboard: [...COMMON, 'host', 'port'],
};

const OPTIONS = {
  redis: { type: 'string' },
  prefix: { type: 'string' },
  scope: { type: 'string' },
  json: { type: 'boolean' },
  reason: { type: 'string' },
  expiry: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const TARGET_HELP = `Every command needs the fleet's Redis and key prefix:
  --redis URL     redis:// or rediss:// URL (or BRAMA_REDIS_URL)
  --prefix P      the prefix the fleet's createRedisStore uses (or BRAMA_PREFIX)`;

/** Help text of the whole CLI. */
export const USAGE = `Usage: brama <command> [options]

Commands:
  status [--scope S] [--json]     every connection stored under the prefix
  watch [--scope S]               print every change as it happens (Ctrl-C to stop)
  open <identifier> [--scope S] [--reason R] [--expiry MS]
                                  open a circuit fleet-wide
  close <identifier> [--scope S] [--reason R]
                                  close a circuit fleet-wide
  reset <identifier> [--scope S] [--reason R]
                                  reset a circuit fleet-wide
  dashboard [--host 127.0.0.1] [--port 0]
                                  serve the live dashboard of every connection

${TARGET_HELP}

Exit status: 0 success, 1 failure (unknown connection, Redis not answering), 2 bad usage.
Run "brama <command> --help" for one command.`;

const COMMAND_HELP: Readonly<Record<string, string>> = {
  status: `Usage: brama status [--scope S] [--json]

Prints every connection stored under the prefix (including ones no process of yours
registered): state, failures (consecutive/total), successes, last failure reason, time in state.
  --scope S   only connections of scope S
  --json      only a JSON array of connection statuses on stdout`,
  watch: `Usage: brama watch [--scope S]

Prints the connections, then one line per change announced under the prefix, until Ctrl-C.
  --scope S   only connections of scope S`,
  open: `Usage: brama open <identifier> [--scope S] [--reason R] [--expiry MS]

Opens the circuit in Redis; every running process emits circuit_opened (origin "remote").
  --scope S     the connection's scope (default: none)
  --reason R    the reason the fleet's events carry
  --expiry MS   how long this opening lasts (default: the connection's own expiry option
                if stored, else 60000; the fleet's registry-wide options are not in Redis)`,
  close: `Usage: brama close <identifier> [--scope S] [--reason R]

Closes the circuit in Redis; every running process emits circuit_closed (origin "remote").
  --scope S     the connection's scope (default: none)
  --reason R    the reason the fleet's events carry`,
  reset: `Usage: brama reset <identifier> [--scope S] [--reason R]

Resets the circuit in Redis (closed, failure count 0); every running process emits
circuit_reset (origin "remote").
  --scope S     the connection's scope (default: none)
  --reason R    the reason the fleet's events carry`,
  dashboard: `Usage: brama dashboard [--host 127.0.0.1] [--port 0]

Serves the live dashboard of every connection under the prefix and prints its URL.
  --host H    address to listen on (default 127.0.0.1)
  --port N    port, 0 for any free one (default 0)`,
};

function usage(message: string): BramaError {
  return new BramaError('BRAMA_INVALID_ARGUMENT', message);
}

/** parseArgs' own errors, as one short line. */
function parseError(error: unknown): BramaError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(message)?.[1] ?? message;
    return usage(`unknown option ${option}`);
  }
  return usage(message.split('\n')[0]!.split('. ')[0]!.replace(/\.$/, ''));
}

function checkTarget(
  values: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): Target {
  const url = (values.redis as string | undefined) ?? env.BRAMA_REDIS_URL;
  const prefix = (values.prefix as string | undefined) ?? env.BRAMA_PREFIX;
  if (url === undefined || url === '') throw usage('missing --redis URL (or BRAMA_REDIS_URL)');
  if (prefix === undefined || prefix === '') throw usage('missing --prefix P (or BRAMA_PREFIX)');
  try {
    checkUrl(url);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw usage(`bad --redis URL: ${detail.replace(/^Invalid option "url": /, '')}`);
  }
  try {
    checkPrefix(prefix);
  } catch {
    throw usage(`bad --prefix ${JSON.stringify(prefix)}: expected a prefix without "{" or "}"`);
  }
  return { url, prefix };
}

function scopeOf(values: Readonly<Record<string, unknown>>): string | null {
  const scope = values.scope as string | undefined;
  if (scope === undefined) return null;
  if (scope === '') throw usage('bad --scope: expected a non-empty scope');
  return scope;
}

/** An integer in [min, max] from its decimal text, or a usage error naming the flag. */
function integer(flag: string, text: string, min: number, max: number, unit: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw usage(
      `bad --${flag} ${JSON.stringify(text)}: expected an integer from ${min} to ${max}${unit}`,
    );
  }
  return n;
}

function expiryOf(values: Readonly<Record<string, unknown>>): number | null {
  const text = values.expiry as string | undefined;
  if (text === undefined) return null;
  const n = integer('expiry', text, 1, Number.MAX_SAFE_INTEGER, ' (ms)');
  try {
    checkCircuitOption('expiry', n);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw usage(`bad --expiry ${JSON.stringify(text)}: ${detail}`);
  }
  return n;
}

/**
 * Parses `argv` (without node and the script) with `env` for defaults. Throws a
 * `BRAMA_INVALID_ARGUMENT` error, its message the line to print, for any usage problem.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw parseError(error);
  }
  const { values, positionals } = parsed;
  const [name, ...rest] = positionals;
  if (name === undefined || name === 'help') {
    if (values.help === true || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      return { kind: 'help', text: (topic && COMMAND_HELP[topic]) || USAGE };
    }
    throw usage('missing command (status, watch, open, close, reset, dashboard); see --help');
  }
  const allowed = ALLOWED[name];
  if (allowed === undefined) throw usage(`unknown command ${JSON.stringify(name)}; see --help`);
  if (values.help === true) return { kind: 'help', text: COMMAND_HELP[name]! };
  for (const key of Object.keys(values)) {
    if (!allowed.includes(key)) throw usage(`option --${key} does not apply to ${name}`);
  }
  const isAction = name === 'open' || name === 'close' || name === 'reset';
  const wanted = isAction ? 1 : 0;
  if (isAction && rest.length === 0) throw usage(`${name}: missing <identifier>`);
  if (rest.length > wanted)
    throw usage(`${name}: unexpected argument ${JSON.stringify(rest[wanted])}`);
  if (isAction && rest[0] === '') throw usage(`${name}: the identifier is empty`);
  // Every flag is checked before the target, so a bad flag is reported even without Redis set.
  const scope = scopeOf(values);
  switch (name) {
    case 'status':
      return {
        kind: 'status',
        target: checkTarget(values, env),
        scope,
        json: values.json === true,
      };
    case 'watch':
      return { kind: 'watch', target: checkTarget(values, env), scope };
    case 'dashboard': {
      const host = values.host ?? '127.0.0.1';
      if (host === '') throw usage('bad --host: expected a host name or address');
      const port = values.port === undefined ? 0 : integer('port', values.port, 0, 65535, '');
      return { kind: 'dashboard', target: checkTarget(values, env), host, port };
    }
    default: {
      const expiry = expiryOf(values);
      const reason = values.reason ?? null;
      return {
        kind: 'action',
        action: name as CliAction,
        target: checkTarget(values, env),
        identifier: rest[0]!,
        scope,
        reason,
        expiry,
      };
    }
  }
}
