/**
 * `parseRetryAfter`: an HTTP `Retry-After` header value as milliseconds to wait, for
 * `failure(..., { retryAfterMs })` and `classify` (result-driven opening).
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** IMF-fixdate, the preferred form: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** Obsolete RFC 850 form: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850 = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
/** Obsolete asctime form: `Sun Nov  6 08:49:37 1994` (GMT). */
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/**
 * Turns an HTTP `Retry-After` value into the milliseconds to wait: delta-seconds (`"120"`) or an
 * HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, and the two obsolete forms), a date in the past
 * giving 0. `null` when the value is missing or malformed. `now` (epoch ms) is when the response
 * arrived.
 * @example parseRetryAfter(response.headers.get('retry-after')) // 120_000 for "120"
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : null;
  }
  const at = httpDate(text);
  if (at === null || typeof now !== 'number' || !Number.isFinite(now)) return null;
  return Math.max(0, at - now);
}

interface DateParts {
  readonly year: number;
  readonly month: string;
  readonly day: number;
  readonly h: number;
  readonly m: number;
  readonly s: number;
}

function parts(text: string): DateParts | null {
  let g = IMF.exec(text);
  if (g !== null)
    return { day: +g[1]!, month: g[2]!, year: +g[3]!, h: +g[4]!, m: +g[5]!, s: +g[6]! };
  g = RFC850.exec(text);
  if (g !== null) {
    // Two-digit years: read as the nearest past century, as RFC 9110 asks.
    const yy = +g[3]!;
    const year = yy + (yy < 70 ? 2000 : 1900);
    return { day: +g[1]!, month: g[2]!, year, h: +g[4]!, m: +g[5]!, s: +g[6]! };
  }
  g = ASCTIME.exec(text);
  if (g !== null)
    return { month: g[1]!, day: +g[2]!.trim(), h: +g[3]!, m: +g[4]!, s: +g[5]!, year: +g[6]! };
  return null;
}

/** An HTTP-date as epoch ms, `null` when it is not one (or names an impossible date). */
function httpDate(text: string): number | null {
  const d = parts(text);
  if (d === null || d.h > 23 || d.m > 59 || d.s > 60) return null;
  const ms = Date.UTC(d.year, MONTHS.indexOf(d.month), d.day, d.h, d.m, d.s);
  // Date.UTC rolls over (31 Feb becomes 3 Mar): such a value is malformed, not a date.
  return new Date(ms).getUTCDate() === d.day ? ms : null;
}
