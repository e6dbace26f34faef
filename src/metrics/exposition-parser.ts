/**
 * Test helper: a strict parser of the Prometheus text exposition format 0.0.4, written from the
 * format's description. It rejects what a Prometheus server would reject or mis-read: bad names,
 * unknown escapes, a family split in two, HELP/TYPE repeated or after the family's samples,
 * duplicate series, histogram buckets that are not cumulative or lack `+Inf`, and text that is
 * not well-formed Unicode (no UTF-8 encoding of it would round-trip).
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family: its TYPE, HELP and samples in the order they came. */
export interface Family {
  readonly name: string;
  type: string;
  help: string | null;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;

/** Parses an exposition; throws an `Error` naming the line at the first violation. */
export function parseExposition(text: string): Map<string, Family> {
  if (Buffer.from(text, 'utf8').toString('utf8') !== text) throw new Error('not valid UTF-8 text');
  if (text !== '' && !text.endsWith('\n')) throw new Error('the last line has no line feed');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  const typed = new Set<string>();
  let current: Family | null = null;
  const lines = text.split('\n').slice(0, -1);
  const enter = (name: string, line: number): Family => {
    if (current?.name === name) return current;
    if (closed.has(name) || families.has(name)) fail(line, `family ${name} split in two`);
    if (current !== null) closed.add(current.name);
    current = { name, type: 'untyped', help: null, samples: [] };
    families.set(name, current);
    return current;
  };
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (m === null) return; // a comment
      const [, keyword, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) fail(line, `bad metric name ${name}`);
      const family = enter(name, line);
      if (family.samples.length > 0) fail(line, `${keyword} after samples of ${name}`);
      if (keyword === 'HELP') {
        if (family.help !== null) fail(line, `second HELP for ${name}`);
        family.help = unescapeHelp(rest, line);
      } else {
        if (!TYPES.has(rest)) fail(line, `bad TYPE ${rest}`);
        if (family.type !== 'untyped' || typed.has(name)) fail(line, `second TYPE for ${name}`);
        typed.add(name);
        family.type = rest;
      }
      return;
    }
    if (raw.trim() === '') fail(line, 'empty line');
    const sample = parseSample(raw, line);
    const family = enter(familyOf(sample.name, current), line);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(key)) fail(line, `duplicate series ${key}`);
    series.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** The family a sample belongs to: a histogram's `_bucket`, `_sum`, `_count` go to their base. */
function familyOf(name: string, current: Family | null): string {
  if (current !== null && (current.type === 'histogram' || current.type === 'summary')) {
    for (const suffix of ['_bucket', '_sum', '_count'])
      if (name === current.name + suffix) return current.name;
  }
  return name;
}

function parseSample(raw: string, line: number): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{)?/.exec(raw);
  if (m === null) fail(line, 'bad metric name');
  const name = m[1] as string;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (m[2] === '{') {
    i++;
    while (raw[i] !== '}') {
      const eq = raw.indexOf('="', i);
      if (eq < 0) fail(line, 'label without ="');
      const label = raw.slice(i, eq);
      if (!LABEL_NAME.test(label)) fail(line, `bad label name ${JSON.stringify(label)}`);
      if (label in labels) fail(line, `label ${label} twice`);
      let value = '';
      let j = eq + 2;
      for (;;) {
        const c = raw[j];
        if (c === undefined) fail(line, 'unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const next = raw[j + 1];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else fail(line, `bad escape \\${next ?? ''}`);
          j += 2;
        } else {
          value += c;
          j++;
        }
      }
      labels[label] = value;
      i = j + 1;
      if (raw[i] === ',') i++;
      else if (raw[i] !== '}') fail(line, 'expected , or }');
    }
    i++;
  }
  if (raw[i] !== ' ') fail(line, 'expected a space before the value');
  const fields = raw.slice(i + 1).split(' ');
  if (fields.length > 2 || fields.some((f) => f === '')) fail(line, 'bad value or timestamp');
  return { name, labels, value: parseValue(fields[0] as string, line) };
}

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!FLOAT.test(text)) fail(line, `bad value ${text}`);
  return Number(text);
}

function unescapeHelp(text: string, line: number): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    return fail(line, `bad escape in HELP \\${c}`);
  });
}

/** Each histogram series: `le` buckets ascending and cumulative, `+Inf` = `_count`, a `_sum`. */
function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${s.name} without le`);
      group.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name.endsWith('_sum')) group.sum = s.value;
    else if (s.name.endsWith('_count')) group.count = s.value;
    else throw new Error(`${s.name} in histogram ${family.name}`);
  }
  for (const [key, g] of groups) {
    const last = g.buckets[g.buckets.length - 1];
    if (last === undefined || last[0] !== Infinity) throw new Error(`${key}: no +Inf bucket`);
    if (g.sum === undefined || g.count !== last[1]) throw new Error(`${key}: bad _sum/_count`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [le, n] = g.buckets[i] as [number, number];
      const [prevLe, prevN] = g.buckets[i - 1] as [number, number];
      if (le <= prevLe || n < prevN) throw new Error(`${key}: buckets not cumulative`);
    }
  }
}

function fail(line: number, message: string): never {
  throw new Error(`line ${line}: ${message}`);
}

/** The value of the one sample of `name` whose labels include `labels`; throws otherwise. */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const found = samplesOf(families, name, labels);
  if (found.length !== 1)
    throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return (found[0] as Sample).value;
}

/** Every sample of `name` whose labels include `labels`. */
export function samplesOf(
  families: Map<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Sample[] {
  const out: Sample[] = [];
  for (const family of families.values())
    for (const s of family.samples)
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        out.push(s);
  return out;
}
