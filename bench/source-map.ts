/** Just enough source-map decoding to name the src/ line of a function in the built dist/. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface RawMap {
  readonly sources: readonly string[];
  readonly mappings: string;
}

/** Per generated line: [generated column, source index, source line] segments, in order. */
type Lines = (readonly [number, number, number])[][];

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = B64.indexOf(ch);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

function decode(mappings: string): Lines {
  const lines: Lines = [];
  let source = 0;
  let sourceLine = 0;
  for (const line of mappings.split(';')) {
    const segments: (readonly [number, number, number])[] = [];
    let column = 0;
    for (const text of line.split(',')) {
      if (text === '') continue;
      const f = decodeVlq(text);
      column += f[0] ?? 0;
      if (f.length >= 4) {
        source += f[1] ?? 0;
        sourceLine += f[2] ?? 0;
        segments.push([column, source, sourceLine]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

const cache = new Map<string, { map: RawMap; lines: Lines } | null>();

/** `src/x.ts:line` for a 0-based position in a built file, or `null` when unknown. */
export function originalPosition(file: string, line: number, column: number): string | null {
  let entry = cache.get(file);
  if (entry === undefined) {
    const mapFile = `${file}.map`;
    if (existsSync(mapFile)) {
      const map = JSON.parse(readFileSync(mapFile, 'utf8')) as RawMap;
      entry = { map, lines: decode(map.mappings) };
    } else entry = null;
    cache.set(file, entry);
  }
  if (entry === null) return null;
  const segments = entry.lines[line] ?? [];
  let best: readonly [number, number, number] | undefined;
  for (const s of segments) if (s[0] <= column) best = s;
  best ??= segments[0];
  if (best === undefined) return null;
  const source = entry.map.sources[best[1]] ?? '?';
  const at = source.indexOf('src/');
  return `${at >= 0 ? source.slice(at) : path.basename(source)}:${best[2] + 1}`;
}
