import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isBramaError } from '../../core/errors.js';
import { createRedisStore } from '../../redis.js';
import { parseRedisStoreOptions } from './options.js';

function codeAndMessage(f: () => unknown): { code: string | undefined; message: string } {
  try {
    f();
  } catch (error) {
    if (!isBramaError(error)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error('expected a BramaError');
}

describe('createRedisStore options', () => {
  const url = 'redis://127.0.0.1:6379';

  it.each([
    [undefined, 'client'],
    [null, 'client'],
    [{}, 'client'],
    [{ url, client: {} }, 'client'],
    [{ client: { get: () => 1 } }, 'client'],
    [{ url: '' }, 'url'],
    [{ url: 42 }, 'url'],
    [{ url, prefix: '' }, 'prefix'],
    [{ url, prefix: 'a{b' }, 'prefix'],
    [{ url, prefix: 7 }, 'prefix'],
    [{ url, keyTtl: -1 }, 'keyTtl'],
    [{ url, keyTtl: 1.5 }, 'keyTtl'],
    [{ url, commandTimeout: 0 }, 'commandTimeout'],
    [{ url, commandTimeout: '100' }, 'commandTimeout'],
    [{ url, recoveryInterval: Number.NaN }, 'recoveryInterval'],
    [{ url, degradedPolicy: 'ignore' }, 'degradedPolicy'],
  ])('rejects %o, naming "%s"', (options, name) => {
    const { code, message } = codeAndMessage(() => createRedisStore(options as never));
    expect(code).toBe('BRAMA_INVALID_OPTION');
    expect(message).toContain(`"${name}"`);
  });

  it('rejects an unknown key with a suggestion', () => {
    const { code, message } = codeAndMessage(() =>
      createRedisStore({ url, comandTimeout: 5 } as never),
    );
    expect(code).toBe('BRAMA_INVALID_OPTION');
    expect(message).toContain('did you mean "commandTimeout"?');
  });

  it('has documented defaults', () => {
    expect(parseRedisStoreOptions({ url })).toMatchObject({
      prefix: 'brama',
      keyTtl: 86_400_000,
      commandTimeout: 1000,
      degradedPolicy: 'local',
      recoveryInterval: 1000,
    });
  });

  it('accepts an ioredis client without connecting or taking it over', () => {
    const client = new Redis({ lazyConnect: true });
    const store = createRedisStore({ client, prefix: 'p', degradedPolicy: 'refuse' });
    expect(store.prefix).toBe('p');
    expect(store.degraded).toBe(false);
    expect(client.status).toBe('wait');
    client.disconnect();
  });
});
