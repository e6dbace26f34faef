import { describe, expect, it } from 'vitest';
import { isBramaError } from '../core/is-brama-error.js';
import { parseCommandLine, USAGE, type CliCommand } from './args.js';

const TARGET = ['--redis', 'redis://127.0.0.1:6379', '--prefix', 'fleet'];
const target = { url: 'redis://127.0.0.1:6379', prefix: 'fleet' };

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCommandLine(argv, env);
  } catch (error) {
    expect(isBramaError(error, 'BRAMA_INVALID_ARGUMENT')).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('CLI arguments', () => {
  it('parses every command', () => {
    const cases: [string[], CliCommand][] = [
      [['status', ...TARGET], { kind: 'status', target, scope: null, json: false }],
      [
        ['status', '--scope', 'billing', '--json', ...TARGET],
        { kind: 'status', target, scope: 'billing', json: true },
      ],
      [['watch', ...TARGET], { kind: 'watch', target, scope: null }],
      [
        [
          'open',
          'payments',
          '--scope',
          'billing',
          '--reason',
          'maintenance',
          '--expiry',
          '90000',
          ...TARGET,
        ],
        {
          kind: 'action',
          action: 'open',
          target,
          identifier: 'payments',
          scope: 'billing',
          reason: 'maintenance',
          expiry: 90_000,
        },
      ],
      [
        ['close', 'payments', ...TARGET],
        {
          kind: 'action',
          action: 'close',
          target,
          identifier: 'payments',
          scope: null,
          reason: null,
          expiry: null,
        },
      ],
      [
        // An identifier that starts with "-" goes after "--".
        ['reset', ...TARGET, '--', '-odd'],
        {
          kind: 'action',
          action: 'reset',
          target,
          identifier: '-odd',
          scope: null,
          reason: null,
          expiry: null,
        },
      ],
      [['dashboard', ...TARGET], { kind: 'dashboard', target, host: '127.0.0.1', port: 0 }],
      [
        ['dashboard', '--host', '0.0.0.0', '--port', '8080', ...TARGET],
        { kind: 'dashboard', target, host: '0.0.0.0', port: 8080 },
      ],
    ];
    for (const [argv, expected] of cases)
      expect(parseCommandLine(argv, {}), argv.join(' ')).toEqual(expected);
  });

  it('takes --redis and --prefix from the environment; flags win', () => {
    const env = { BRAMA_REDIS_URL: 'rediss://cache:6380/2', BRAMA_PREFIX: 'env' };
    expect(parseCommandLine(['status'], env)).toMatchObject({
      target: { url: 'rediss://cache:6380/2', prefix: 'env' },
    });
    expect(parseCommandLine(['status', '--prefix', 'flag'], env)).toMatchObject({
      target: { url: 'rediss://cache:6380/2', prefix: 'flag' },
    });
  });

  it('answers --help for the CLI and for each command', () => {
    expect(parseCommandLine(['--help'], {})).toEqual({ kind: 'help', text: USAGE });
    expect(parseCommandLine(['-h'], {})).toEqual({ kind: 'help', text: USAGE });
    expect(parseCommandLine(['help'], {})).toEqual({ kind: 'help', text: USAGE });
    for (const name of ['status', 'watch', 'open', 'close', 'reset', 'dashboard']) {
      const help = parseCommandLine([name, '--help'], {});
      expect(help.kind).toBe('help');
      expect((help as { text: string }).text).toMatch(new RegExp(`^Usage: brama ${name}`));
      // Help needs no Redis and no identifier.
      expect(parseCommandLine(['help', name], {})).toEqual(help);
    }
  });

  it('rejects bad usage with one line naming the problem', () => {
    const cases: [string[], RegExp][] = [
      [[], /^missing command/],
      [['stats', ...TARGET], /^unknown command "stats"/],
      [['status', '--verbose', ...TARGET], /^unknown option --verbose$/],
      [['status', '-x', ...TARGET], /^unknown option -x$/],
      [['status', 'extra', ...TARGET], /^status: unexpected argument "extra"$/],
      [['status', '--scope', '', ...TARGET], /^bad --scope/],
      [['status', '--scope'], /argument missing/],
      [['watch', '--json', ...TARGET], /^option --json does not apply to watch$/],
      [['open', ...TARGET], /^open: missing <identifier>$/],
      [['open', '', ...TARGET], /^open: the identifier is empty$/],
      [['open', 'a', 'b', ...TARGET], /^open: unexpected argument "b"$/],
      [['open', 'a', '--expiry', 'soon', ...TARGET], /^bad --expiry "soon": expected an integer/],
      [['open', 'a', '--expiry=-5', ...TARGET], /^bad --expiry "-5"/],
      [['open', 'a', '--expiry', '-5', ...TARGET], /^Option '--expiry' argument is ambiguous$/],
      [['open', 'a', '--expiry', '0', ...TARGET], /^bad --expiry "0"/],
      [['open', 'a', '--expiry', '1e3', ...TARGET], /^bad --expiry "1e3"/],
      [['close', 'a', '--expiry', '5', ...TARGET], /^option --expiry does not apply to close$/],
      [['reset', 'a', '--json', ...TARGET], /^option --json does not apply to reset$/],
      [
        ['dashboard', '--port', '65536', ...TARGET],
        /^bad --port "65536": expected an integer from 0 to 65535$/,
      ],
      [['dashboard', '--port', 'http', ...TARGET], /^bad --port "http"/],
      [['dashboard', '--host', '', ...TARGET], /^bad --host/],
      [['dashboard', '--scope', 's', ...TARGET], /^option --scope does not apply to dashboard$/],
      [['status', '--prefix', 'p'], /^missing --redis URL \(or BRAMA_REDIS_URL\)$/],
      [['status', '--redis', 'redis://h'], /^missing --prefix P \(or BRAMA_PREFIX\)$/],
      [
        ['status', '--redis', 'http://h', '--prefix', 'p'],
        /^bad --redis URL: .*its scheme is "http:"/,
      ],
      [['status', '--redis', 'localhost:6379', '--prefix', 'p'], /^bad --redis URL/],
      [['status', '--redis', 'redis://h', '--prefix', 'a{b}'], /^bad --prefix "a\{b\}"/],
    ];
    for (const [argv, pattern] of cases) {
      const message = usageError(argv);
      expect(message, argv.join(' ')).toMatch(pattern);
      expect(message).not.toContain('\n');
    }
  });

  it('hides the password of a bad URL', () => {
    expect(
      usageError(['status', '--redis', 'redis://user:s3cret@host/x', '--prefix', 'p']),
    ).not.toContain('s3cret');
  });
});
