/** What the roles of bench/fleet-child.ts share. */
import { readFileSync } from 'node:fs';
import type { Brama } from 'brama';
import type { FleetRequest } from '../fleet-protocol.js';
import type { Subject } from '../harness.js';

/** A role's commands: each answers one IPC request (its result goes back as the answer). */
export type Handlers = Record<string, (args: FleetRequest) => unknown>;

export const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

export function subjectOf(subjects: ReadonlyMap<string, Subject>, name: unknown): Subject {
  const subject = subjects.get(String(name));
  if (subject === undefined) throw new Error(`unknown subject ${String(name)}`);
  return subject;
}

/** Linux USER_HZ: the unit of utime and stime in /proc (100 on every mainstream build). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds of the calling thread (here: the main thread, which runs the event loop), or
 * `NaN` where /proc/thread-self does not exist. process.cpuUsage() counts every thread, V8's
 * background GC and compiler threads included.
 */
export function threadCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/**
 * Records why the store went degraded (its `store_degraded` events), so that a measurement that
 * finds it degraded can say why.
 */
export function degradedReasons(brama: Brama): () => string {
  const reasons: string[] = [];
  brama.subscribe(
    (event) => {
      const cause: unknown = event.data.error.cause;
      reasons.push(
        `${event.data.error.message}${cause instanceof Error ? ` (${cause.message})` : ''}`,
      );
    },
    { events: ['store_degraded'] },
  );
  return () => (reasons.length === 0 ? 'no store_degraded event' : reasons.join('; '));
}
