import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isBramaError } from '../../core/is-brama-error.js';
import { Brama } from '../../brama.js';
import { createRedisStore, RedisStore } from '../../redis.js';
import { parseRedisStoreOptions, redactUrl } from './options.js';

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
    [{ url, commandTimeout: 2 ** 31 }, 'commandTimeout'],
    [{ url, recoveryInterval: 3e9 }, 'recoveryInterval'],
    [{ url: '127.0.0.1:6379' }, 'url'],
    [{ url: 'localhost' }, 'url'],
    [{ url: 'http://127.0.0.1:6379' }, 'url'],
    [{ url: 'redis://' }, 'url'],
    [{ url: 'redis://127.0.0.1:99999' }, 'url'],
    [{ url: 'redis://127.0.0.1:6379/db' }, 'url'],
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

  it('accepts the largest timer a Node.js timer honours', () => {
    expect(
      parseRedisStoreOptions({ url, commandTimeout: 2 ** 31 - 1, recoveryInterval: 2 ** 31 - 1 }),
    ).toMatchObject({ commandTimeout: 2 ** 31 - 1, recoveryInterval: 2 ** 31 - 1 });
  });

  it('accepts redis: and rediss: URLs with credentials, port and database', () => {
    for (const good of ['redis://u:pw@h:1/2', 'rediss://h', 'redis://[::1]:6379/3', url]) {
      expect(parseRedisStoreOptions({ url: good }).url).toBe(good);
    }
  });

  it('never shows a password in the message about a bad URL', () => {
    const { message } = codeAndMessage(() =>
      createRedisStore({ url: 'http://admin:s3cret@redis.internal:6379' }),
    );
    expect(message).not.toContain('s3cret');
    expect(message).toContain('redis.internal');
    expect(redactUrl('redis://admin:s3cret@h:1/0')).toBe('redis://admin:***@h:1/0');
    expect(redactUrl('not a url //user:s3cret@x')).not.toContain('s3cret');
    expect(redactUrl(url)).toBe(url);
  });

  it('an options object that throws while read is a BramaError', () => {
    const hostile = {
      get url(): string {
        throw new Error('getter');
      },
    };
    expect(codeAndMessage(() => createRedisStore(hostile as never)).code).toBe(
      'BRAMA_INVALID_ARGUMENT',
    );
  });

  it('a client that cannot be created leaves the store unattached: the next try fails the same way', () => {
    const store = RedisStore.create(parseRedisStoreOptions({ url }), () => {
      throw new TypeError('bad client options');
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      const { code, message } = codeAndMessage(() => new Brama({ store }));
      expect(code).toBe('BRAMA_INVALID_OPTION');
      expect(message).toContain('bad client options');
    }
    expect(store.degraded).toBe(false);
  });

  it('has no public constructor: stores come from createRedisStore (type-level)', () => {
    const direct = (): unknown =>
      // @ts-expect-error the constructor is private
      new RedisStore() as unknown;
    expect(typeof direct).toBe('function');
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
