import { ReplyError as AnyReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { BramaError } from '../../core/errors.js';
import { isOutage } from './outage.js';

// ioredis types ReplyError as `any`.
const ReplyError = AnyReplyError as new (message: string) => Error;

describe('isOutage', () => {
  it('degrades on connection trouble and on a server that cannot serve', () => {
    expect(isOutage(new Error('Connection is closed.'))).toBe(true);
    expect(
      isOutage(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isOutage('weird')).toBe(true);
    for (const reply of [
      'LOADING Redis is loading',
      'BUSY script',
      'READONLY replica',
      'OOM command not allowed',
      'CLUSTERDOWN',
    ])
      expect(isOutage(new ReplyError(reply))).toBe(true);
  });

  it('does not degrade on an error about one command', () => {
    expect(
      isOutage(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value')),
    ).toBe(false);
    expect(isOutage(new ReplyError('ERR brama report: unknown outcome x'))).toBe(false);
    expect(
      isOutage(
        new BramaError(
          'BRAMA_STORE_UNAVAILABLE',
          'Unexpected reply from a brama script: not an array',
        ),
      ),
    ).toBe(false);
  });
});
