/**
 * The cardinality cap of an exporter: which connections get labelled series. The first
 * `maxSeries` connections it sees get one; a connection that leaves the registry frees its place
 * for the next. Each connection left out is counted once.
 */
import { transitionIndex } from '../core/call-meter.js';
import type { ConnectionRecord } from '../core/record.js';

/**
 * Transitions (indices of `CallMeter.transitions`) always shown, 0 until seen: a counter that
 * appears only at its first increment hides that increment from `increase()`. The others (manual
 * actions, forced states, the first outcome) appear once they happen.
 */
export const MAIN_TRANSITIONS: ReadonlySet<number> = new Set([
  transitionIndex('closed', 'open'),
  transitionIndex('open', 'half_open'),
  transitionIndex('half_open', 'closed'),
  transitionIndex('half_open', 'open'),
]);

interface Slot<E> {
  readonly entry: E;
  seen: number;
}

/** The connections with series, each with what the exporter keeps for it (`E`). */
export class SeriesSlots<E> {
  private readonly slots = new Map<ConnectionRecord, Slot<E>>();
  private readonly left = new WeakSet<ConnectionRecord>();
  private epoch = 0;
  /** Connections left without series so far (each counted once). */
  dropped = 0;

  constructor(
    private readonly max: number,
    private readonly make: (record: ConnectionRecord) => E,
  ) {}

  /**
   * Brings the bookkeeping up to date with `records` (every registered connection, in
   * registration order) and returns the entries of those with series, in that order.
   */
  sync(records: readonly ConnectionRecord[]): E[] {
    const slots = this.slots;
    // Connections that left first: their places are free for this round.
    for (const record of slots.keys()) if (record.removed) slots.delete(record);
    const epoch = ++this.epoch;
    const out: E[] = [];
    for (const record of records) {
      const slot = slots.get(record) ?? this.admit(record);
      if (slot === null) continue;
      slot.seen = epoch;
      out.push(slot.entry);
    }
    if (slots.size > out.length) {
      // Gone without the flag (a store that dropped it): forget it too.
      for (const [record, slot] of slots) if (slot.seen !== epoch) slots.delete(record);
    }
    return out;
  }

  /** The entry of a connection, giving it a place if there is one; `null` when left out. */
  entryOf(record: ConnectionRecord): E | null {
    if (record.removed) return null;
    return (this.slots.get(record) ?? this.admit(record))?.entry ?? null;
  }

  private admit(record: ConnectionRecord): Slot<E> | null {
    if (this.slots.size >= this.max) {
      if (!this.left.has(record)) {
        this.left.add(record);
        this.dropped++;
      }
      return null;
    }
    const slot: Slot<E> = { entry: this.make(record), seen: this.epoch };
    this.slots.set(record, slot);
    return slot;
  }
}

/**
 * `text` as a well-formed string: each lone surrogate (half of a UTF-16 pair, which no UTF-8
 * text can carry) becomes U+FFFD, the replacement character, as a UTF-8 encoder would write it.
 */
export function wellFormed(text: string): string {
  return LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATES, '\uFFFD') : text;
}

const LONE = '[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const LONE_SURROGATE = new RegExp(LONE);
const LONE_SURROGATES = new RegExp(LONE, 'g');
