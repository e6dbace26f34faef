import { describe, expect, it } from 'vitest';
import { errorLine, runCli } from './run.js';

function io(signal = new AbortController().signal) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), signal },
  };
}

describe('runCli (no Redis)', () => {
  it('prints help on stdout and exits 0', async () => {
    const h = io();
    expect(await runCli(['--help'], {}, h.io)).toBe(0);
    expect(h.out.join('')).toMatch(/^Usage: brama <command>/);
    expect(h.err).toEqual([]);
  });

  it('prints one usage line on stderr and exits 2', async () => {
    const h = io();
    expect(await runCli(['open', '--prefix', 'p'], {}, h.io)).toBe(2);
    expect(h.err).toEqual(['brama: open: missing <identifier>\n']);
    expect(h.out).toEqual([]);
  });

  it('keeps error lines to one line without a stack', () => {
    const error = new Error('first line\nsecond line');
    expect(errorLine(error)).toBe('first line');
    expect(errorLine('text')).toBe('text');
    expect(errorLine(new Error(''))).toBe('unknown error');
  });
});
