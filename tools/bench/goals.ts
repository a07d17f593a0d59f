/** The figures `npm run bench` reports against a goal, and how a value is judged. */

export interface Goal {
  readonly op: '<=' | '>=';
  readonly target: number;
}

export const GOALS = {
  ingest_init_ratio: { op: '<=', target: 1.2 },
  consumer_init_ratio: { op: '<=', target: 1.2 },
  ingest_cpu_ratio: { op: '<=', target: 1.5 },
  write_units_per_transfer: { op: '<=', target: 6.0 },
  hot_account_item_writes_per_transfer: { op: '<=', target: 0.1 },
  consumer_speedup_vs_naive: { op: '>=', target: 3 },
} as const satisfies Record<string, Goal>;

export type GoalName = keyof typeof GOALS;

export interface Verdict {
  readonly met: boolean;
  /** value - target (negative is below). */
  readonly margin: number;
  /** value / target. */
  readonly factor: number;
  /** e.g. `met (0.12 under)` or `MISSED by 0.28 (1.23x the goal)`. */
  readonly text: string;
}

/** Two decimals, fewer for large values, three when two would print a non-zero margin as 0.00. */
const fmt = (n: number) => {
  const a = Math.abs(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  return a >= 0.01 || a === 0 ? n.toFixed(2) : n.toFixed(3);
};

/** Judges `value` against `goal`. A NaN value (not measured) is a miss. */
export function judge(value: number, goal: Goal): Verdict {
  if (Number.isNaN(value))
    return { met: false, margin: Number.NaN, factor: Number.NaN, text: 'not measured' };
  const margin = value - goal.target;
  const factor = value / goal.target;
  const met = goal.op === '<=' ? value <= goal.target : value >= goal.target;
  if (met) {
    const room = Math.abs(margin);
    return {
      met,
      margin,
      factor,
      text: room === 0 ? 'met (at the goal)' : `met (${fmt(room)} ${goal.op === '<=' ? 'under' : 'over'})`,
    };
  }
  const how = goal.op === '<=' ? `${fmt(factor)}x the goal` : `${fmt(goal.target / value)}x short`;
  return { met, margin, factor, text: `MISSED by ${fmt(Math.abs(margin))} (${how})` };
}

export interface Row {
  readonly figure: string;
  readonly value: string;
  readonly goal: string;
  readonly verdict: string;
}

/** A plain-text table, columns padded to their widest cell. */
export function renderTable(rows: readonly Row[]): string {
  const header: Row = { figure: 'figure', value: 'value', goal: 'goal', verdict: 'verdict' };
  const all = [header, ...rows];
  const width = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const w = {
    figure: width('figure'),
    value: width('value'),
    goal: width('goal'),
    verdict: width('verdict'),
  };
  const line = (r: Row) =>
    `${r.figure.padEnd(w.figure)}  ${r.value.padStart(w.value)}  ${r.goal.padEnd(w.goal)}  ${r.verdict}`.trimEnd();
  const rule = '-'.repeat(w.figure + w.value + w.goal + w.verdict + 6);
  return [line(header), rule, ...rows.map(line)].join('\n');
}
