import { describe, expect, it } from 'vitest';
import { parseExposition, parseSampleLine } from '../src/exposition.js';

describe('the exposition reader', () => {
  it('reads names, labels with escapes, special values and timestamps; skips comments and junk', () => {
    const text = [
      '# HELP x_total Things.',
      '# TYPE x_total counter',
      'x_total{a="1",b="say \\"hi\\"\\\\n\\n"} 42 1712345678000',
      'up 1',
      'h_bucket{le="+Inf"} +Inf',
      'g{} -Inf',
      'n NaN',
      'bad{a="1"',
      'novalue',
      '',
      '# EOF',
    ].join('\n');
    const samples = parseExposition(text);
    expect(samples.map((s) => s.name)).toEqual(['x_total', 'up', 'h_bucket', 'g', 'n']);
    expect(samples[0]).toEqual({ name: 'x_total', labels: { a: '1', b: 'say "hi"\\n\n' }, value: 42 });
    expect(samples[2].value).toBe(Infinity);
    expect(samples[3].value).toBe(-Infinity);
    expect(samples[4].value).toBeNaN();
  });
  it('reads quoted (UTF-8) metric and label names, trailing commas and spaces', () => {
    expect(parseSampleLine('{"http.server.duration", "http.route"="/a", } 3')).toEqual({
      name: 'http.server.duration',
      labels: { 'http.route': '/a' },
      value: 3,
    });
    expect(parseSampleLine('m{ a = "x" ,} 1.5e3')).toEqual({ name: 'm', labels: { a: 'x' }, value: 1500 });
  });
});
