import { describe, expect, it } from 'vitest';
import { GOALS, judge, renderTable } from '../../../tools/bench/goals.js';

describe('judge', () => {
  it('meets an upper bound at or below it and says by how much', () => {
    expect(judge(1.08, GOALS.ingest_init_ratio)).toMatchObject({ met: true, text: 'met (0.12 under)' });
    expect(judge(1.2, GOALS.ingest_init_ratio)).toMatchObject({ met: true, text: 'met (at the goal)' });
  });

  it('misses an upper bound above it, with the margin and the factor', () => {
    const v = judge(13, GOALS.write_units_per_transfer);
    expect(v.met).toBe(false);
    expect(v.margin).toBe(7);
    expect(v.text).toBe('MISSED by 7.00 (2.17x the goal)');
  });

  it('judges a lower bound the other way', () => {
    expect(judge(4, GOALS.consumer_speedup_vs_naive)).toMatchObject({ met: true, text: 'met (1.00 over)' });
    expect(judge(1.5, GOALS.consumer_speedup_vs_naive)).toMatchObject({
      met: false,
      text: 'MISSED by 1.50 (2.00x short)',
    });
  });

  it('counts a figure that was not measured as a miss', () => {
    expect(judge(Number.NaN, GOALS.ingest_cpu_ratio)).toMatchObject({ met: false, text: 'not measured' });
  });
});

describe('renderTable', () => {
  it('pads columns to the widest cell', () => {
    const text = renderTable([
      { figure: 'a_long_figure', value: '1.00', goal: '<= 2', verdict: 'met (1.00 under)' },
    ]);
    const [header, rule, row] = text.split('\n');
    expect(header).toBe('figure         value  goal  verdict');
    expect(rule?.length).toBeGreaterThan(20);
    expect(row).toBe('a_long_figure   1.00  <= 2  met (1.00 under)');
  });
});

describe('judge, close to the line', () => {
  it('shows a margin under 0.01 with three decimals rather than "0.00"', () => {
    expect(judge(1.504, GOALS.ingest_cpu_ratio).text).toBe('MISSED by 0.004 (1.00x the goal)');
  });
});
