/**
 * Writes a large text as UTF-8 bytes into one growing buffer and decodes it once at the end. A
 * scrape of 10,000 connections is ~150,000 lines: built by string concatenation, it makes
 * millions of short-lived strings for the garbage collector; here it makes one buffer and the
 * final string.
 */

/** Bytes of a text that is written again and again (a metric name, a label pair). */
export interface Chunk {
  readonly bytes: Uint8Array;
  /** Whether every byte is ASCII (then the whole text decodes as Latin-1, the fastest way). */
  readonly ascii: boolean;
}

/** The UTF-8 bytes of `text`, to be written with {@link TextWriter.chunk}. */
export function chunk(text: string): Chunk {
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, ascii: bytes.length === text.length };
}

const DIGITS = 48; // '0'
const LINE_FEED = 10;

/** An append-only UTF-8 text in one buffer. */
export class TextWriter {
  private buffer: Buffer;
  private at = 0;
  private ascii = true;

  /**
   * `reuse`: a buffer to write into, typically the last text's (see {@link buffer}): a scrape
   * every few seconds then allocates no new megabytes of memory outside the heap, whose
   * accounting makes V8 collect garbage sooner.
   */
  constructor(reuse: Buffer | null) {
    this.buffer = reuse ?? Buffer.allocUnsafe(65_536);
  }

  /** The buffer written into (grown as needed), to hand to the next writer. */
  get bytes(): Buffer {
    return this.buffer;
  }

  /** Appends bytes made by {@link chunk}. */
  chunk(c: Chunk): void {
    const end = this.at + c.bytes.length;
    if (end > this.buffer.length) this.grow(end);
    this.buffer.set(c.bytes, this.at);
    this.at = end;
    if (!c.ascii) this.ascii = false;
  }

  /** Appends three chunks (a sample's name, its labels and the rest of them: one call per line). */
  chunks(a: Chunk, b: Chunk, c: Chunk): void {
    let at = this.at;
    const end = at + a.bytes.length + b.bytes.length + c.bytes.length;
    if (end > this.buffer.length) this.grow(end);
    const buffer = this.buffer;
    buffer.set(a.bytes, at);
    at += a.bytes.length;
    buffer.set(b.bytes, at);
    at += b.bytes.length;
    buffer.set(c.bytes, at);
    this.at = end;
    if (!(a.ascii && b.ascii && c.ascii)) this.ascii = false;
  }

  /** Appends a text (any string; converted to UTF-8). */
  text(text: string): void {
    const most = this.at + text.length * 3;
    if (most > this.buffer.length) this.grow(most);
    const written = this.buffer.write(text, this.at, 'utf8');
    if (written !== text.length) this.ascii = false;
    this.at += written;
  }

  /** Appends ` value\n`: a sample's value and the end of its line. */
  value(value: number): void {
    if (this.at + 32 > this.buffer.length) this.grow(this.at + 32);
    const b = this.buffer;
    b[this.at++] = 32; // ' '
    if (value === 0 || value === 1) {
      b[this.at++] = DIGITS + value; // most samples: one-hot states, counts not seen yet
    } else if (Number.isSafeInteger(value) && value >= 0) {
      // Counts: digits written directly, most significant first.
      let digits = 1;
      for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
      let rest = value;
      for (let i = this.at + digits - 1; i >= this.at; i--) {
        b[i] = DIGITS + (rest % 10);
        rest = Math.floor(rest / 10);
      }
      this.at += digits;
    } else {
      this.at += b.write(formatValue(value), this.at, 'latin1');
    }
    b[this.at++] = LINE_FEED;
  }

  /** Starts over, keeping the buffer. */
  reset(): void {
    this.at = 0;
    this.ascii = true;
  }

  /** A copy of the bytes written so far, to be written again later as one chunk. */
  take(): Chunk {
    return { bytes: Buffer.from(this.buffer.subarray(0, this.at)), ascii: this.ascii };
  }

  /** The text written so far. */
  toString(): string {
    return this.buffer.toString(this.ascii ? 'latin1' : 'utf8', 0, this.at);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.at;
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(next, 0, 0, this.at);
    this.buffer = next;
  }
}

/** A value as the text format writes it: `+Inf`, `-Inf`, `NaN` or a JavaScript number. */
export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
