/**
 * `cnilab compare A B`: each row of run B against the same row of run A (same architecture, path,
 * test and parameters). Pure.
 *
 * A row's figure is its paired ratio to its own run's host baseline when both runs have one
 * (results v3), else its absolute samples. The test is Welch's t on the logarithms, with each
 * run's noise floor (what one run's rounds do not see: results v3, `noise.floorPct`) added to
 * the standard error. A row ends in the words a run's claims use:
 *   - better / worse: Holm's procedure over all rows rejects "no change" (family-wise error ≤ 5%);
 *   - equivalent: the change B/A is within ±m% (m = --equivalence, else B's
 *     `settings.equivalencePct`, else 3), by two one-sided tests at 2.5% each on the same standard
 *     error and degrees of freedom — one row alone is equivalent when the plain 95% interval of
 *     B/A (log-symmetric, `comparedCi95`) lies within [1/(1+m), 1+m]. Over all rows Holm's
 *     procedure is applied to these tests too (each row's larger one-sided p-value, at 2.5%): the
 *     row of rank k among N must have its interval, widened to the level 1 − 5%/(N − k), inside
 *     the band — so that the chance of any false equivalence is also at most 2.5%;
 *   - not resolved: neither (or fewer than two values on a side).
 * A row better or worse is never called equivalent (a change within the band that the test still
 * sees is reported as the change).
 */
import { DEFAULT_EQUIVALENCE_PCT } from '../run/claims';
import { allAfterTests } from '../run/after';
import { holm, tTwoSidedP } from '../run/paired';
import { METRIC_INFO, type MetricName, type ResultRow, type StatJson } from '../run/results-schema';
import { t975Real } from '../run/special';
import { mean, round, variance } from '../run/stats';

export const FAMILY_ALPHA = 0.05;

/** What a row of B against A ends in: the words of a run's claims (results v6). */
export type Judgement = 'better' | 'worse' | 'equivalent' | 'not resolved';

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
  /**
   * 95% interval of the compared figure's change B/A (a ratio, log-symmetric); null with fewer than 2 values on a
   * side.
   */
  readonly comparedCi95: { readonly low: number; readonly high: number } | null;
  /** Two-sided p-value before Holm's correction; null with fewer than 2 values on a side. */
  readonly pValue: number | null;
  /**
   * p-value of equivalence within ±equivalencePct (the larger of the two one-sided tests) before Holm's correction.
   */
  readonly equivalenceP: number | null;
  /**
   * better / worse when Holm's procedure rejects "no change" (by the metric's direction);
   * equivalent when it rejects "a change beyond ±equivalencePct"; else not resolved.
   */
  readonly judgement: Judgement;
}

export interface Comparison {
  readonly changes: Change[];
  /** Rows only one run has, by key. */
  readonly onlyInA: string[];
  readonly onlyInB: string[];
  /** Each run's noise floor (% of a ratio), 0 when the file has none (before v3). */
  readonly floorPct: { readonly a: number; readonly b: number };
  readonly alpha: number;
  /** The margin of equivalence, ± %. */
  readonly equivalencePct: number;
  /** What the reader must know before the verdicts, e.g. that the runs' underlay MTUs differ. */
  readonly notes: string[];
}

/** What a comparison reads of a run: results v3 or v2, or rows made from results v1. */
export type ComparableRow = Pick<ResultRow, 'arch' | 'path' | 'test' | 'params' | 'primary' | 'metrics'> & {
  readonly ratio?: { readonly ratios: readonly number[] } | null;
  /** Present when its run measured several underlay MTUs. */
  readonly underlayMtu?: number;
  /** The pods' IP family it was measured in (absent in results before IPv6: IPv4). */
  readonly ipFamily?: 4 | 6;
};
export interface ComparableRun {
  readonly rows: readonly ComparableRow[];
  readonly floorPct?: number;
  /** The run's underlay MTU (lab.underlayMtu): what a row without its own MTU was measured at. */
  readonly underlayMtu?: number;
  /** The tests after the rounds the run measured (results.json's `afterRounds`): not rows, not compared. */
  readonly afterRounds?: Readonly<Record<string, unknown>>;
  /** The run's margin of equivalence (results v6 `settings.equivalencePct`); B's is the comparison's default. */
  readonly equivalencePct?: number;
}

export interface CompareOptions {
  /** Family-wise error of the better/worse verdicts (default 5%; equivalence: half of it). */
  readonly alpha?: number;
  /** Margin of equivalence, ± % (default: B's, else 3). */
  readonly equivalencePct?: number;
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

export interface LogTest {
  /** mean(ln B) − mean(ln A). */
  readonly diff: number;
  /** Two-sided p-value of "no change"; null with fewer than 2 values on a side. */
  readonly p: number | null;
  /** The standard error of diff (floors included) and its degrees of freedom; absent when p is null. */
  readonly se?: number;
  readonly df?: number;
}

/** Welch's t on the logs, each side's floor (log units) added to its variance; the difference and its p-value. */
export function logTest(a: readonly number[], b: readonly number[], floorA: number, floorB: number): LogTest {
  const [la, lb] = [logs(a), logs(b)];
  if (la.length < 2 || lb.length < 2) return { diff: la.length && lb.length ? mean(lb) - mean(la) : 0, p: null };
  const [va, vb] = [variance(la) / la.length, variance(lb) / lb.length];
  const diff = mean(lb) - mean(la);
  const se = Math.sqrt(va + vb + floorA ** 2 + floorB ** 2);
  // Welch–Satterthwaite degrees of freedom of the sampling part (at least 1).
  const df = va + vb > 0 ? Math.max(1, (va + vb) ** 2 / (va ** 2 / (la.length - 1) + vb ** 2 / (lb.length - 1))) : 1;
  if (se === 0) return { diff, p: diff === 0 ? 1 : 0, se, df };
  return { diff, p: tTwoSidedP(diff / se, df), se, df };
}

/** P(T ≥ t), one-sided. */
const upperTail = (t: number, df: number): number => (t >= 0 ? tTwoSidedP(t, df) / 2 : 1 - tTwoSidedP(-t, df) / 2);

/**
 * Equivalence within ±marginPct: the larger p-value of the two one-sided tests (TOST) of
 * "diff ≤ −ln(1+m)" and "diff ≥ ln(1+m)"; at most 2.5% exactly when the 95% interval lies within
 * the band. Null when the test is.
 */
export function equivalenceP(t: LogTest, marginPct: number): number | null {
  if (t.p === null || t.se === undefined || t.df === undefined) return null;
  const band = Math.log(1 + marginPct / 100);
  if (t.se === 0) return Math.abs(t.diff) <= band ? 0 : 1;
  return Math.max(upperTail((t.diff + band) / t.se, t.df), upperTail((band - t.diff) / t.se, t.df));
}

/** The 95% interval of exp(diff): log-symmetric, from the test's standard error and degrees of freedom. */
function ci95Of(t: LogTest): { low: number; high: number } | null {
  if (t.p === null || t.se === undefined || t.df === undefined) return null;
  const h = t975Real(t.df) * t.se;
  return { low: round(Math.exp(t.diff - h), 4), high: round(Math.exp(t.diff + h), 4) };
}

/**
 * The keys rows are matched by: architecture, path, test, parameters — and the underlay MTU when
 * either run measured several (a row of a one-MTU run then counts at its run's MTU), so that a
 * row is only ever compared with a row of the same MTU; the IP family when either has IPv6 rows.
 * Two one-MTU IPv4 runs match as before.
 */
function keyer(a: ComparableRun, b: ComparableRun): (r: ComparableRow, run: ComparableRun) => string {
  const byMtu = [...a.rows, ...b.rows].some((r) => r.underlayMtu !== undefined);
  // An IPv6 row is only ever compared with an IPv6 row; two IPv4 runs match as before.
  const byFamily = [...a.rows, ...b.rows].some((r) => r.ipFamily === 6);
  return (r, run) => {
    const mtu = r.underlayMtu ?? run.underlayMtu;
    const key = byMtu && mtu !== undefined ? `${rowKey(r)} mtu ${mtu}` : rowKey(r);
    return byFamily ? `${key} IPv${r.ipFamily ?? 4}` : key;
  };
}

export function compareRuns(a: ComparableRun, b: ComparableRun, o: CompareOptions = {}): Comparison {
  const alpha = o.alpha ?? FAMILY_ALPHA;
  const equivalencePct = o.equivalencePct ?? b.equivalencePct ?? DEFAULT_EQUIVALENCE_PCT;
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
        comparedCi95: ci95Of(t),
        pValue: t.p === null ? null : round(t.p, 5),
        equivalenceP: equivalenceP(t, equivalencePct),
        better: METRIC_INFO[m].better,
      });
    }
  }
  const changes = judge(pending, alpha);
  return {
    changes,
    onlyInA: [...inA.keys()].filter((k) => !inB.has(k)),
    onlyInB: [...inB].filter((k) => !inA.has(k)),
    floorPct: { a: a.floorPct ?? 0, b: b.floorPct ?? 0 },
    alpha,
    equivalencePct,
    notes: [
      ...mtuNotes(a, b),
      ...allAfterTests()
        .filter((t) => a.afterRounds?.[t.name] !== undefined || b.afterRounds?.[t.name] !== undefined)
        .map((t) => t.compareNote),
    ],
  };
}

/**
 * The judgements: Holm over the tested rows for "no change" at alpha (better / worse), and for
 * "a change beyond the margin" at alpha / 2 (equivalent: each of the two one-sided tests at half
 * of alpha, as the 95% interval does).
 */
function judge(
  pending: readonly (Omit<Change, 'judgement'> & { better: 'higher' | 'lower' })[],
  alpha: number,
): Change[] {
  const tested = pending.filter((c) => c.pValue !== null && c.equivalenceP !== null);
  const differs = holm(
    tested.map((c) => c.pValue!),
    alpha,
  );
  const same = holm(
    tested.map((c) => c.equivalenceP!),
    alpha / 2,
  );
  return pending.map(({ better, ...c }, j) => {
    const i = tested.indexOf(pending[j]!);
    if (i >= 0 && differs[i])
      return { ...c, judgement: c.comparedChangePct > 0 === (better === 'higher') ? 'better' : 'worse' };
    return { ...c, judgement: i >= 0 && same[i] ? 'equivalent' : 'not resolved' };
  });
}

/** Two one-MTU runs at different underlay MTUs: their rows are matched all the same, and said to differ in that. */
function mtuNotes(a: ComparableRun, b: ComparableRun): string[] {
  const several = [...a.rows, ...b.rows].some((r) => r.underlayMtu !== undefined);
  if (several || a.underlayMtu === undefined || b.underlayMtu === undefined || a.underlayMtu === b.underlayMtu)
    return [];
  return [
    `the runs' underlay MTUs differ (A ${a.underlayMtu}, B ${b.underlayMtu}): each row is compared across them, ` +
      `so a change may be the MTU's`,
  ];
}
