import { describe, expect, it } from 'vitest';
import { Heartbeat } from './heartbeat.js';

describe('Heartbeat', () => {
  it('sends nothing until the subscription is established, then one beat per interval', () => {
    const h = new Heartbeat(1000, 2);
    expect(h.next(0)).toEqual({ kind: 'wait' });
    h.subscribed();
    expect(h.next(0)).toEqual({ kind: 'send', beat: 1 });
    expect(h.next(999)).toEqual({ kind: 'wait' });
    expect(h.next(1000)).toEqual({ kind: 'send', beat: 2 });
  });

  it('a delivered heartbeat keeps the subscription; a gap in the numbers means lost messages', () => {
    const h = new Heartbeat(1000, 2);
    h.subscribed();
    for (let t = 0, beat = 1; t < 5000; t += 1000, beat++) {
      expect(h.next(t)).toEqual({ kind: 'send', beat });
      h.sent();
      if (beat !== 3) expect(h.heard(beat)).toBe(beat === 4); // 3 never arrived
    }
    expect(h.heard(2)).toBe(false); // late and out of order: nothing new
  });

  it('heartbeats accepted but never delivered replace the subscription, again if it hangs', () => {
    const h = new Heartbeat(1000, 2);
    h.subscribed();
    expect(h.next(0)).toEqual({ kind: 'send', beat: 1 });
    h.sent();
    expect(h.next(1000)).toEqual({ kind: 'send', beat: 2 });
    h.sent();
    expect(h.next(2000)).toEqual({ kind: 'replace' });
    // Not back yet: no heartbeats, and a new replacement only after three intervals.
    expect(h.next(3000)).toEqual({ kind: 'wait' });
    expect(h.next(5000)).toEqual({ kind: 'wait' });
    expect(h.next(5001)).toEqual({ kind: 'replace' });
    h.subscribed();
    expect(h.next(6000)).toEqual({ kind: 'send', beat: 3 });
  });

  it('a heartbeat Redis did not accept does not count against the subscription', () => {
    const h = new Heartbeat(1000, 2);
    h.subscribed();
    for (let t = 0; t < 10_000; t += 1000) expect(h.next(t).kind).toBe('send'); // never sent()
  });
});
