/**
 * `cnilab compare A B`: each row of run B against the same row of run A (same architecture, path,
 * test and parameters). Pure.
 *
 * A row's figure is its paired ratio to its own run's host baseline when both runs have one
 * (results v3), else its absolute samples. The test is Welch's t on the logarithms, with each
 * run's noise floor (what one run's rounds do not see: results v3, `noise.floorPct`) added to
 * the standard error; the verdicts over all rows are corrected with Holm's procedure so that the
 * chance of any false better/worse is at most 5%.
 */
import { holm, tTwoSidedP } from '../run/paired';
import { METRIC_INFO, type MetricName, type ResultRow, type StatJson } from '../run/results-schema';
import { mean, round, variance } from '../run/stats';

export const FAMILY_ALPHA = 0.05;

export interface Change {
  readonly key: string;
  readonly arch: string;
  readonly path: string;
  readonly test: string;
  readonly metric: MetricName;
  readonly unit: string;
  readonly a: StatJson;
  readonly b: StatJson;
  /** (B − A) / A of the medians, in %. */
  readonly changePct: number;
  /** What was compared: the paired ratios to host (v3 on both sides) or the absolute samples. */
  readonly basis: 'ratio to host' | 'absolute';
  /** Change of the compared figure's geometric mean, in % (the ratio's when basis is the ratio). */
  readonly comparedChangePct: number;
  /** Two-sided p-value before Holm's correction; null with fewer than 2 values on a side. */
  readonly pValue: number | null;
  /** better / worse when Holm's procedure rejects "no change" (by the metric's direction). */
  readonly judgement: 'better' | 'worse' | 'within noise';
}

export interface Comparison {
  readonly changes: Change[];
  /** Rows only one run has, by key. */
  readonly onlyInA: string[];
  readonly onlyInB: string[];
  /** Each run's noise floor (% of a ratio), 0 when the file has none (before v3). */
  readonly floorPct: { readonly a: number; readonly b: number };
  readonly alpha: number;
  /** What the reader must know before the verdicts, e.g. that the runs' underlay MTUs differ. */
  readonly notes: string[];
}

/** What a comparison reads of a run: results v3 or v2, or rows made from results v1. */
export type ComparableRow = Pick<ResultRow, 'arch' | 'path' | 'test' | 'params' | 'primary' | 'metrics'> & {
  readonly ratio?: { readonly ratios: readonly number[] } | null;
  /** Present when its run measured several underlay MTUs. */
  readonly underlayMtu?: number;
};
export interface ComparableRun {
  readonly rows: readonly ComparableRow[];
  readonly floorPct?: number;
  /** The run's underlay MTU (lab.underlayMtu): what a row without its own MTU was measured at. */
  readonly underlayMtu?: number;
  /** Present when the run measured the attach test (results.json's `attach`): not rows, not compared. */
  readonly attach?: unknown;
  /** Present when the run measured the join test (results.json's `join`): not rows, not compared. */
  readonly join?: unknown;
}

export function rowKey(r: Pick<ResultRow, 'arch' | 'path' | 'test' | 'params'>): string {
  const p = r.params;
  const extra = [
    p.streams && r.test !== 'tcp' ? `${p.streams} streams` : '',
    p.rateMbps ? `${p.rateMbps} Mbit/s` : '',
    p.payloadBytes && r.test === 'sweep' ? `${p.payloadBytes} B` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `${r.arch} ${r.path} ${r.test}${extra ? ` ${extra}` : ''}`;
}

/** The metrics compared for a row: its primary one, and the tail for latency. */
function compared(r: ComparableRow): MetricName[] {
  return r.test.startsWith('latency') ? [r.primary, 'rttP99Us'] : [r.primary];
}

const logs = (xs: readonly number[]): number[] => xs.filter((x) => x > 0).map(Math.log);

/** Welch's t on the logs, each side's floor (log units) added to its variance; the difference and its p-value. */
export function logTest(
  a: readonly number[],
  b: readonly number[],
  floorA: number,
  floorB: number,
): { diff: number; p: number | null } {
  const [la, lb] = [logs(a), logs(b)];
  if (la.length < 2 || lb.length < 2) return { diff: la.length && lb.length ? mean(lb) - mean(la) : 0, p: null };
  const [va, vb] = [variance(la) / la.length, variance(lb) / lb.length];
  const diff = mean(lb) - mean(la);
  const se = Math.sqrt(va + vb + floorA ** 2 + floorB ** 2);
  if (se === 0) return { diff, p: diff === 0 ? 1 : 0 };
  // Welch–Satterthwaite degrees of freedom of the sampling part (at least 1).
  const df = va + vb > 0 ? Math.max(1, (va + vb) ** 2 / (va ** 2 / (la.length - 1) + vb ** 2 / (lb.length - 1))) : 1;
  return { diff, p: tTwoSidedP(diff / se, df) };
}

/**
 * The keys rows are matched by: architecture, path, test, parameters — and the underlay MTU when
 * either run measured several (a row of a one-MTU run then counts at its run's MTU), so that a
 * row is only ever compared with a row of the same MTU. Two one-MTU runs match as before.
 */
function keyer(a: ComparableRun, b: ComparableRun): (r: ComparableRow, run: ComparableRun) => string {
  const byMtu = [...a.rows, ...b.rows].some((r) => r.underlayMtu !== undefined);
  return (r, run) => {
    const mtu = r.underlayMtu ?? run.underlayMtu;
    return byMtu && mtu !== undefined ? `${rowKey(r)} mtu ${mtu}` : rowKey(r);
  };
}

export function compareRuns(a: ComparableRun, b: ComparableRun, alpha = FAMILY_ALPHA): Comparison {
  const keyOf = keyer(a, b);
  const inA = new Map(a.rows.map((r) => [keyOf(r, a), r]));
  const inB = new Set(b.rows.map((r) => keyOf(r, b)));
  const floorA = Math.log(1 + (a.floorPct ?? 0) / 100);
  const floorB = Math.log(1 + (b.floorPct ?? 0) / 100);
  const pending: (Omit<Change, 'judgement'> & { better: 'higher' | 'lower' })[] = [];
  for (const rb of b.rows) {
    const key = keyOf(rb, b);
    const ra = inA.get(key);
    if (!ra) continue;
    for (const m of compared(rb)) {
      const [sa, sb] = [ra.metrics[m], rb.metrics[m]];
      if (!sa || !sb) continue;
      const paired = m === rb.primary && ra.ratio?.ratios.length && rb.ratio?.ratios.length;
      const [va, vb] = paired ? [ra.ratio!.ratios, rb.ratio!.ratios] : [sa.samples, sb.samples];
      const t = logTest(va, vb, floorA, floorB);
      pending.push({
        key,
        arch: rb.arch,
        path: rb.path,
        test: rb.test,
        metric: m,
        unit: METRIC_INFO[m].unit,
        a: sa,
        b: sb,
        changePct: sa.median === 0 ? 0 : round(((sb.median - sa.median) / sa.median) * 100, 1),
        basis: paired ? 'ratio to host' : 'absolute',
        comparedChangePct: round((Math.exp(t.diff) - 1) * 100, 1),
        pValue: t.p === null ? null : round(t.p, 5),
        better: METRIC_INFO[m].better,
      });
    }
  }
  const tested = pending.filter((c) => c.pValue !== null);
  const rejected = holm(
    tested.map((c) => c.pValue!),
    alpha,
  );
  const changes: Change[] = pending.map(({ better, ...c }) => {
    const i = tested.indexOf(pending.find((x) => x.key === c.key && x.metric === c.metric)!);
    if (i < 0 || !rejected[i]) return { ...c, judgement: 'within noise' };
    return { ...c, judgement: c.comparedChangePct > 0 === (better === 'higher') ? 'better' : 'worse' };
  });
  return {
    changes,
    onlyInA: [...inA.keys()].filter((k) => !inB.has(k)),
    onlyInB: [...inB].filter((k) => !inA.has(k)),
    floorPct: { a: a.floorPct ?? 0, b: b.floorPct ?? 0 },
    alpha,
    notes: [
      ...mtuNotes(a, b),
      ...(a.attach || b.attach
        ? [
            "the attach test's figures (ms, not rows) are not compared: read them side by side in each run's report (Pod attach)",
          ]
        : []),
      ...(a.join || b.join
        ? [
            "the join test's figures (ms, not rows) are not compared: read them side by side in each run's report (Node join)",
          ]
        : []),
    ],
  };
}

/** Two one-MTU runs at different underlay MTUs: their rows are matched all the same, and said to differ in that. */
function mtuNotes(a: ComparableRun, b: ComparableRun): string[] {
  const several = [...a.rows, ...b.rows].some((r) => r.underlayMtu !== undefined);
  if (several || a.underlayMtu === undefined || b.underlayMtu === undefined || a.underlayMtu === b.underlayMtu)
    return [];
  return [
    `the runs' underlay MTUs differ (A ${a.underlayMtu}, B ${b.underlayMtu}): each row is compared across them, so a change may be the MTU's`,
  ];
}
