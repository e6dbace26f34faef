// The CommonJS side of a project: `brama` resolves through the `require` condition.
import { Brama, CircuitOpenError, isBramaError, type CircuitState } from 'brama';
import { ManualClock, expectState } from 'brama/testing';
import { createRedisStore, type RedisStore } from 'brama/redis';

export function createRegistry(): Brama {
  return new Brama({ clock: new ManualClock(0), cleanupInterval: 0 });
}

export function stateOf(brama: Brama, identifier: string): CircuitState {
  expectState(brama, identifier, brama.status(identifier).state);
  return brama.status(identifier).state;
}

export function sharedStore(): RedisStore {
  return createRedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'types' });
}

export function retryAfter(error: unknown): number | null {
  return isBramaError(error, 'BRAMA_CIRCUIT_OPEN') ? error.retryAfterMs : null;
}

export { CircuitOpenError };
