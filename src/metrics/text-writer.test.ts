import { describe, expect, it } from 'vitest';
import { chunk, formatValue, TextWriter } from './text-writer.js';

describe('TextWriter', () => {
  it('writes values as the text format does, growing its buffer as needed', () => {
    const out = new TextWriter(null);
    const name = chunk('m{a="zażółć 🚀"}');
    const values = [
      0,
      7,
      10,
      1_234_567_890,
      2 ** 53 - 1,
      0.005,
      12.051,
      -3,
      Infinity,
      -Infinity,
      NaN,
    ];
    for (let i = 0; i < 2_000; i++) {
      out.chunk(name);
      out.value(values[i % values.length] as number);
    }
    out.text('end ✓');
    const lines = out.toString().split('\n');
    expect(lines).toHaveLength(2_001);
    expect(lines.slice(0, values.length)).toEqual(
      [
        '0',
        '7',
        '10',
        '1234567890',
        '9007199254740991',
        '0.005',
        '12.051',
        '-3',
        '+Inf',
        '-Inf',
        'NaN',
      ].map((v) => `m{a="zażółć 🚀"} ${v}`),
    );
    expect(lines[2_000]).toBe('end ✓');
    expect(out.length).toBe(Buffer.byteLength(out.toString()));
  });

  it('formats special values', () => {
    expect([Infinity, -Infinity, NaN, 1e-7, 1.5].map(formatValue)).toEqual([
      '+Inf',
      '-Inf',
      'NaN',
      '1e-7',
      '1.5',
    ]);
  });
});
