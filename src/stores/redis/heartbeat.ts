/**
 * The liveness check of the Redis store's subscription: each process sends numbered heartbeats
 * to itself through Redis. A gap in the numbers delivered means the subscription lost messages
 * (reconcile); heartbeats Redis accepted that the subscription never delivers mean it is dead
 * (replace its connection). Pure bookkeeping: the link sends, listens and acts; time is passed in.
 */

/** What the link should do now. */
export type BeatAction =
  | { readonly kind: 'wait' }
  | { readonly kind: 'send'; readonly beat: number }
  | { readonly kind: 'replace' };

const WAIT: BeatAction = Object.freeze({ kind: 'wait' });
const REPLACE: BeatAction = Object.freeze({ kind: 'replace' });

/** Heartbeat bookkeeping of one subscription. */
export class Heartbeat {
  /** Heartbeats Redis accepted since the subscription last delivered one. */
  private unheard = 0;
  private lastBeatAt = -Infinity;
  private beats = 0;
  private lastHeard = 0;
  /** Whether the subscription is (believed) established: heartbeats are checked only then. */
  private listening = false;
  /** When the subscription was last replaced (-1: never), to retry one that does not return. */
  private replacedAt = -1;

  /**
   * @param intervalMs a heartbeat goes out this often
   * @param missed this many accepted and undelivered heartbeats mean the subscription is dead
   */
  constructor(
    private readonly intervalMs = 1000,
    private readonly missed = 2,
  ) {}

  /** The subscription is established (again). */
  subscribed(): void {
    this.listening = true;
    this.replacedAt = -1;
    this.unheard = 0;
  }

  /** What to do at time `now` (ms, any monotonic clock). */
  next(now: number): BeatAction {
    if (now - this.lastBeatAt < this.intervalMs) return WAIT;
    if (!this.listening) {
      // A replaced subscription that does not come back (its new connection hangs too).
      if (this.replacedAt >= 0 && now - this.replacedAt > 3 * this.intervalMs) {
        this.replacedAt = now;
        return REPLACE;
      }
      return WAIT;
    }
    this.lastBeatAt = now;
    if (this.unheard >= this.missed) {
      this.unheard = 0;
      this.listening = false;
      this.replacedAt = now;
      return REPLACE;
    }
    return { kind: 'send', beat: ++this.beats };
  }

  /** Redis accepted a heartbeat. */
  sent(): void {
    this.unheard++;
  }

  /** The subscription delivered heartbeat `beat`; returns whether messages were lost before it. */
  heard(beat: number): boolean {
    this.unheard = 0;
    const lost = this.lastHeard > 0 && beat > this.lastHeard + 1;
    if (beat > this.lastHeard) this.lastHeard = beat;
    return lost;
  }
}
