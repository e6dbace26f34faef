import { Brama } from '../brama.js';
import { ManualClock } from '../testing/manual-clock.js';
import { describeStoreConformance, type StoreHarness } from './store-conformance.js';
import { MemoryStore } from './memory-store.js';

describeStoreConformance('MemoryStore', (): StoreHarness => {
  const clock = new ManualClock(1_700_000_000_000);
  const made: Brama[] = [];
  return {
    create: (options) => {
      const brama = new Brama({ ...options, clock, store: new MemoryStore() });
      made.push(brama);
      return Promise.resolve(brama);
    },
    sync: () => Promise.resolve(),
    advance: (ms) => {
      clock.advance(ms);
      return Promise.resolve();
    },
    dispose: async () => {
      await Promise.all(made.map((b) => b.close()));
    },
  };
});
