/**
 * `cnilab compare A B`: each row of run B against the same row of run A (same architecture,
 * path, test and parameters): the change of the median, and whether it is outside the noise —
 * the two 95% confidence intervals do not overlap — or within it. Pure.
 */
import { METRIC_INFO, type MetricName, type ResultRow, type StatJson } from '../run/results-schema';
import { round, verdict } from '../run/stats';

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
  /** better / worse when outside the noise (by the metric's direction), else within noise. */
  readonly judgement: 'better' | 'worse' | 'within noise';
}

export interface Comparison {
  readonly changes: Change[];
  /** Rows only one run has, by key. */
  readonly onlyInA: string[];
  readonly onlyInB: string[];
}

/** What a comparison reads of a run: results v2, or rows made from results v1. */
export type ComparableRow = Pick<ResultRow, 'arch' | 'path' | 'test' | 'params' | 'primary' | 'metrics'>;
export interface ComparableRun {
  readonly rows: readonly ComparableRow[];
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

export function compareRuns(a: ComparableRun, b: ComparableRun): Comparison {
  const inA = new Map(a.rows.map((r) => [rowKey(r), r]));
  const inB = new Set(b.rows.map(rowKey));
  const changes: Change[] = [];
  for (const rb of b.rows) {
    const ra = inA.get(rowKey(rb));
    if (!ra) continue;
    for (const m of compared(rb)) {
      const sa = ra.metrics[m];
      const sb = rb.metrics[m];
      if (!sa || !sb) continue;
      const v = verdict(sa, sb);
      const info = METRIC_INFO[m];
      const judgement = v === 'within noise' ? v : (v === 'higher') === (info.better === 'higher') ? 'better' : 'worse';
      changes.push({
        key: rowKey(rb),
        arch: rb.arch,
        path: rb.path,
        test: rb.test,
        metric: m,
        unit: info.unit,
        a: sa,
        b: sb,
        changePct: sa.median === 0 ? 0 : round(((sb.median - sa.median) / sa.median) * 100, 1),
        judgement,
      });
    }
  }
  return { changes, onlyInA: [...inA.keys()].filter((k) => !inB.has(k)), onlyInB: [...inB].filter((k) => !inA.has(k)) };
}
