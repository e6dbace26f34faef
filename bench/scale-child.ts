/**
 * Child process of scenario 5: creates `count` connections (brama) or breakers (the peers, one
 * per connection, kept in a Map by name as an application would), measures the time and the
 * retained heap, prints one JSON line and then simply returns: no cleanup, no `close()`, no
 * `process.exit()`. The parent checks whether the process then exits by itself.
 *
 * Usage: node --expose-gc scale-child.js <brama|opossum|cockatiel> <count>
 */
import { Brama } from 'brama';
import { value } from './functions.js';
import { cockatiel, opossum } from './peers.js';

export interface ScaleReport {
  readonly lib: string;
  readonly count: number;
  readonly nsPerCreate: number;
  readonly bytesPerConnection: number;
  readonly heapBeforeBytes: number;
  readonly heapAfterBytes: number;
}

const [lib = '', countText = ''] = process.argv.slice(2);
const count = Number(countText);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`bad count ${countText}`);

function settledHeap(): number {
  for (let i = 0; i < 4; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

// Names exist before the baseline: their cost belongs to the application, not the library.
const names: string[] = [];
for (let i = 0; i < count; i++) names.push(`service-${i}`);

const before = settledHeap();
const start = process.hrtime.bigint();
let size: () => number;
switch (lib) {
  case 'brama': {
    const brama = new Brama();
    for (const name of names) brama.register(name);
    size = () => (brama.isAvailable(names[count - 1] as string) ? count : -1);
    break;
  }
  case 'opossum': {
    const breakers = new Map<string, ReturnType<typeof opossum<number>>>();
    for (const name of names) breakers.set(name, opossum(value));
    size = () => breakers.size;
    break;
  }
  case 'cockatiel': {
    const policies = new Map<string, ReturnType<typeof cockatiel>>();
    for (const name of names) policies.set(name, cockatiel());
    size = () => policies.size;
    break;
  }
  default:
    throw new Error(`unknown library ${lib}`);
}
const elapsed = Number(process.hrtime.bigint() - start);
const after = settledHeap();
if (size() !== count) throw new Error(`${lib}: expected ${count} connections`);

const report: ScaleReport = {
  lib,
  count,
  nsPerCreate: elapsed / count,
  bytesPerConnection: (after - before) / count,
  heapBeforeBytes: before,
  heapAfterBytes: after,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
// ...and nothing else: whatever the library left running decides whether this process exits.
