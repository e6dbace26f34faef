/**
 * Scenario 6, a dependency that goes down: `processes` child processes share one connection
 * (`OUTAGE_OPTIONS`) and call a dependency through `brama.run`, `workers` calls in flight each,
 * 1 ms per call. At T the dependency starts failing every call it answers. Counted, fleet-wide:
 * the calls that reach it after T until each process sees the circuit open (the trip phase),
 * and those after that until the end of the window (half-open trials), against the bound
 * `maxAttempts` + calls in flight at the trip + `halfOpenProbes` per open period.
 */
import { Redis } from 'ioredis';
import { progress, withChildren } from '../fleet-children.js';
import {
  clockMs,
  OUTAGE_OPTIONS,
  stateKey,
  type FleetChildConfig,
  type OutageLog,
} from '../fleet-protocol.js';

export interface OutagePlan {
  readonly processes: number;
  /** Calls in flight per process. */
  readonly workers: number;
  /** Measured rounds (one untimed round first), each on a fresh connection. */
  readonly rounds: number;
  /** How long the dependency is down (and calls are counted) per round. */
  readonly windowMs: number;
}

/** One round: counts fleet-wide, times in ms after T. */
export interface OutageRound {
  /** Calls that reached the dependency after T, before their process saw the circuit open. */
  readonly tripPhase: number;
  /** Of those, the calls that started after the first process saw it open. */
  readonly afterFirstOpen: number;
  /** Calls that reached it after their process saw it open (trials), until the window ended. */
  readonly openPhase: number;
  /** Calls in flight at T (they fail too; they reached it before T). */
  readonly inFlightAtT: number;
  /** Calls in flight when the first process saw the circuit open (the trip). */
  readonly inFlightAtTrip: number;
  /** Open periods in the window (the connection's `openings` in Redis at the end). */
  readonly openings: number;
  /** maxAttempts + inFlightAtTrip + halfOpenProbes × openings. */
  readonly bound: number;
  /** tripPhase + openPhase. */
  readonly measured: number;
  /** When the first and the last process saw the circuit open. */
  readonly firstOpenMs: number;
  readonly allOpenMs: number;
  /** Processes that never saw it open within the window. */
  readonly neverOpened: number;
  /** Failures each process had seen (answered) before it saw the circuit open: fewest, most. */
  readonly failuresBeforeOpen: readonly [number, number];
}

export interface Outage {
  readonly processes: number;
  readonly workers: number;
  readonly windowMs: number;
  readonly rounds: readonly OutageRound[];
}

/** Lead time before T: every process is calling, every call succeeds. */
const LEAD_MS = 200;

function analyse(logs: readonly OutageLog[], down: number, openings: number): OutageRound {
  const opens = logs.map((l) => l.openedAt).filter((t): t is number => t !== null);
  const firstOpen = opens.length === 0 ? Infinity : Math.min(...opens);
  let tripPhase = 0;
  let afterFirstOpen = 0;
  let openPhase = 0;
  let inFlightAtT = 0;
  let inFlightAtTrip = 0;
  const failuresBeforeOpen: number[] = [];
  for (const log of logs) {
    const open = log.openedAt ?? Infinity;
    failuresBeforeOpen.push(log.ends.filter((end) => end >= down && end < open).length);
    log.starts.forEach((start, i) => {
      const end = log.ends[i]!;
      if (start < down && end >= down) inFlightAtT++;
      if (start < firstOpen && end > firstOpen) inFlightAtTrip++;
      if (start >= down && start < open) {
        tripPhase++;
        if (start >= firstOpen) afterFirstOpen++;
      }
      if (start >= open) openPhase++;
    });
  }
  const bound =
    OUTAGE_OPTIONS.maxAttempts + inFlightAtTrip + OUTAGE_OPTIONS.halfOpenProbes * openings;
  return {
    tripPhase,
    afterFirstOpen,
    openPhase,
    inFlightAtT,
    inFlightAtTrip,
    openings,
    bound,
    measured: tripPhase + openPhase,
    firstOpenMs: firstOpen - down,
    allOpenMs: (opens.length === logs.length ? Math.max(...opens) : Infinity) - down,
    neverOpened: logs.length - opens.length,
    failuresBeforeOpen: [Math.min(...failuresBeforeOpen), Math.max(...failuresBeforeOpen)],
  };
}

export async function measureOutage(
  url: string,
  prefix: string,
  plan: OutagePlan,
): Promise<Outage> {
  const shared = `${prefix}:outage`;
  const config: FleetChildConfig = { role: 'caller', url, prefix: shared, workers: plan.workers };
  const client = new Redis(url);
  try {
    return await withChildren(Array(plan.processes).fill(config), async (callers) => {
      progress(`  6 fleet dependency down: ${plan.rounds} rounds `);
      const rounds: OutageRound[] = [];
      for (let round = -1; round < plan.rounds; round++) {
        const connection = `dependency-${round + 1}`;
        await Promise.all(callers.map((c) => c.call('prepare', { connection })));
        const downAt = clockMs() + LEAD_MS;
        const until = downAt + plan.windowMs;
        const logs = await Promise.all(
          callers.map((c) => c.call<OutageLog>('run', { connection, downAt, until })),
        );
        const openings = Number(await client.hget(stateKey(shared, connection), 'openings'));
        if (round >= 0) rounds.push(analyse(logs, downAt, openings));
        progress('.');
      }
      progress('\n');
      return {
        processes: plan.processes,
        workers: plan.workers,
        windowMs: plan.windowMs,
        rounds,
      };
    });
  } finally {
    client.disconnect();
  }
}
