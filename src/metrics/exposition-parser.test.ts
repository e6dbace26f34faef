import { describe, expect, it } from 'vitest';
import { parseExposition, valueOf } from './exposition-parser.js';

const ok = `# HELP x_total Things\\\\ counted\\n here.
# TYPE x_total counter
x_total{a="q\\"\\\\\\n",b=""} 3
x_total 1e3 1700000000
# TYPE h histogram
h_bucket{le="0.5"} 1
h_bucket{le="+Inf"} 2
h_sum 0.75
h_count 2
`;

describe('the test parser of the text format', () => {
  it('reads names, escaped labels, values, HELP and TYPE', () => {
    const m = parseExposition(ok);
    expect(m.get('x_total')).toMatchObject({ type: 'counter', help: 'Things\\ counted\n here.' });
    expect(valueOf(m, 'x_total', { a: 'q"\\\n', b: '' })).toBe(3);
    expect(valueOf(m, 'h_count')).toBe(2);
  });

  it.each([
    ['no final line feed', 'x 1'],
    ['a bad escape', 'x{a="\\t"} 1\n'],
    ['a bad metric name', '1x 1\n'],
    ['a bad label name', 'x{1a="b"} 1\n'],
    ['a bad value', 'x 1,5\n'],
    ['an unterminated value', 'x{a="b} 1\n'],
    ['a duplicate series', 'x{a="b"} 1\nx{a="b"} 2\n'],
    ['a split family', 'x 1\ny 1\nx{a="b"} 2\n'],
    ['TYPE after samples', 'x 1\n# TYPE x gauge\n'],
    ['a second HELP', '# HELP x a\n# HELP x b\n'],
    ['a lone surrogate', 'x{a="\uD800"} 1\n'],
    ['an empty line', 'x 1\n\n'],
    [
      'buckets not cumulative',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['+Inf not the count', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
  ])('rejects %s', (_, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
