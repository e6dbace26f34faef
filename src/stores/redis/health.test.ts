import { describe, expect, it } from 'vitest';
import { Health, type HealthEvents } from './health.js';

const TIMEOUT = 1000;
const TICK = 250;

/** A Health on a clock the test moves; its events are never expected here. */
function watchdog(): { health: Health; at(ms: number): void } {
  let now = 0;
  const events: HealthEvents = {
    degraded: () => {
      throw new Error('not expected');
    },
    probe: () => Promise.resolve(false),
    resync: () => Promise.resolve(),
    recovered: () => {},
  };
  const health = new Health(TIMEOUT, 5000, events, { tickMs: TICK, clock: () => now });
  return { health, at: (ms) => void (now = ms) };
}

/** Runs the watchdog at each time: what it said each time. */
function ticks(w: ReturnType<typeof watchdog>, times: number[]): boolean[] {
  return times.map((t) => {
    w.at(t);
    return w.health.watch();
  });
}

describe('Health: the watchdog', () => {
  it('says a command unanswered for commandTimeout stalled, on ticks that run on time', () => {
    const w = watchdog();
    w.at(10);
    w.health.begin();
    expect(ticks(w, [250, 500, 750, 1000])).toEqual([false, false, false, false]);
    expect(ticks(w, [1250])).toEqual([true]); // 1240 ms without an answer
  });

  it('an answer is progress: only the time since the last one counts', () => {
    const w = watchdog();
    w.at(0);
    w.health.watch();
    const first = w.health.begin();
    w.health.begin();
    expect(ticks(w, [250, 500, 750])).toEqual([false, false, false]);
    w.at(900);
    w.health.settled(first);
    expect(ticks(w, [1000, 1250, 1500, 1750])).toEqual([false, false, false, false]);
    expect(ticks(w, [2000])).toEqual([true]); // 1100 ms since the answer
  });

  it('does not count the time the event loop was blocked, and a late tick judges nothing', () => {
    const w = watchdog();
    w.at(0);
    w.health.watch();
    w.at(100);
    w.health.begin();
    expect(ticks(w, [250])).toEqual([false]);
    // The loop is blocked: the tick due at 500 runs at 1400, 900 ms late (not counted).
    expect(ticks(w, [1400])).toEqual([false]);
    // Free again: 400 ms counted by 1400 (100 → 500), then 250 per tick.
    expect(ticks(w, [1650, 1900])).toEqual([false, false]); // 650, 900 ms
    expect(ticks(w, [2150])).toEqual([true]); // 1150 ms
  });

  it('the first tick after the set-up is judged late like any other', () => {
    const w = watchdog(); // set up at 0: the first tick is due at 250
    w.at(10);
    w.health.begin();
    expect(ticks(w, [1500])).toEqual([false]); // blocked until 1500
    expect(ticks(w, [1750, 2000])).toEqual([false, false]); // 240 + 250 + 250 ms counted
    expect(ticks(w, [2750])).toEqual([false]); // 500 ms late again: 990 ms counted
    expect(ticks(w, [3000])).toEqual([true]);
  });

  it('a tick a little late still judges, without the time it was late', () => {
    const w = watchdog();
    w.at(0);
    w.health.watch();
    w.health.begin();
    expect(ticks(w, [250, 500, 750])).toEqual([false, false, false]);
    // 200 ms late (less than a tick): judged, on 1000 ms of free time: not more than the timeout.
    expect(ticks(w, [1200])).toEqual([false]);
    expect(ticks(w, [1450])).toEqual([true]);
  });

  it('a loop blocked at every tick still notices a Redis that stopped answering', () => {
    const w = watchdog();
    w.at(0);
    w.health.watch();
    w.health.begin();
    // Every tick runs 600 ms late: every other one judges, on the 250 ms per tick the loop was
    // free: 500 ms, 1000 ms (not more than the timeout), then 1500 ms.
    const said = ticks(
      w,
      Array.from({ length: 8 }, (_, i) => (i + 1) * (TICK + 600)),
    );
    expect(said).toEqual([false, false, false, false, false, true, false, true]);
  });

  it('nothing in flight: never stalled', () => {
    const w = watchdog();
    w.at(0);
    w.health.watch();
    const id = w.health.begin();
    w.health.settled(id);
    expect(ticks(w, [5000, 5250, 9000])).toEqual([false, false, false]);
  });
});
