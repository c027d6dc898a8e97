/**
 * A row's paired ratios to the baseline and how well the run knows them (pure): the plain t
 * interval of each row on its own, and the moderated one (moderated.ts) that borrows the spread
 * of the rows of the same test and carries the run-level component. The rounds (whether a row is
 * still open), the results (rows[].ratio.moderated, rows[].resolved) and the noise section read
 * them from here, so that the run stops on the same interval it reports.
 */
import { cpus } from 'node:os';
import type { ClaimRow } from './claims';
import { moderateAll, type GroupFit, type ModeratedInterval } from './moderated';
import { METRIC_INFO } from './results-schema';
import { pairRatios, type Pairing, type TimedValue } from './paired';
import type { PlannedRow } from './plan';
import { runTests } from './tests';
import type { TakenSample } from './sampling';

/** What a row holds so far: its plan and its kept samples. */
export interface SampledRow {
  readonly row: PlannedRow;
  readonly taken: readonly TakenSample[];
}

/** The primary metric of a row's kept samples, with their round and time. */
export const timedValues = (m: SampledRow): TimedValue[] =>
  m.taken.map((t) => ({
    value: t.sample.metrics[runTests.get(m.row.test).primary] ?? NaN,
    round: t.round,
    at: (t.startSec + t.endSec) / 2,
  }));

/** The baseline row of a row: the baseline architecture's row of the same test, parameters, underlay MTU and family. */
export function baselineOf<T extends { row: PlannedRow }>(rows: readonly T[], r: T, baseline: string): T | undefined {
  if (r.row.cell.arch.name === baseline) return undefined;
  const same = (x: PlannedRow): string =>
    `${x.test} ${JSON.stringify(x.params)} ${x.cell.mtu ?? ''} ${x.cell.ipFamily ?? ''}`;
  return rows.find((b) => b.row.cell.arch.name === baseline && same(b.row) === same(r.row));
}

export interface RatioOptions {
  readonly baseline: string;
  readonly pairing: Pairing;
}

/** The ratios of a row: paired to its baseline row; undefined for the baseline and rows without one. */
export function rowRatios(rows: readonly SampledRow[], m: SampledRow, o: RatioOptions): number[] | undefined {
  const base = baselineOf(rows, m, o.baseline);
  return base ? pairRatios(timedValues(m), timedValues(base), o.pairing) : undefined;
}

/** The moderation of a run's rows: each row's moderated interval (none for the baseline), the fits per test, κ. */
export interface RowModeration {
  readonly intervals: (ModeratedInterval | undefined)[];
  readonly fits: Map<string, GroupFit>;
  readonly kappa: { readonly main: number; readonly noisy: number };
  /** Each row's log ratios, in the order of the rows (empty for the baseline). */
  readonly logs: number[][];
  /** Each row's moderation group (its test and path; rows without a baseline partner apart). */
  readonly groups: string[];
}

/**
 * Every row's ratio moderated within the rows of its test and path (they share a machine, a tool
 * and a kind of path; rows of another test or path do not share their noise). A row without a
 * baseline partner is moderated on its own values, as the plain interval treats it.
 */
export function moderateRows(rows: readonly SampledRow[], o: RatioOptions): RowModeration {
  const logs = rows.map((m) => {
    if (m.row.cell.arch.name === o.baseline) return [];
    const r =
      rowRatios(rows, m, o) ??
      timedValues(m)
        .map((v) => v.value)
        .filter((v) => v > 0);
    return r.filter((x) => x > 0).map(Math.log);
  });
  // Rows that have a baseline partner are moderated apart from rows judged on their own values.
  const groupOf = (i: number): string =>
    `${rows[i]!.row.test} ${rows[i]!.row.cell.path}${baselineOf(rows, rows[i]!, o.baseline) ? '' : ' (own values)'}`;
  const out = moderateAll(logs, groupOf);
  return { ...out, logs, groups: rows.map((_, i) => groupOf(i)) };
}

/** Whether a row is known within ±precision% by its moderated interval (the baseline always is). */
export const withinPrecision = (iv: ModeratedInterval | undefined, precisionPct: number): boolean =>
  iv !== undefined && iv.halfWidthPct <= precisionPct;

/** Each throughput sample's host CPU per Gbit (core-seconds per Gbit), with its round and time. */
function cpuPerGbitValues(m: SampledRow): TimedValue[] {
  return m.taken.flatMap((t) => {
    const gbps = t.sample.metrics.gbps;
    return t.sample.cpu && gbps
      ? [{ value: ((t.sample.cpu.busy / 100) * cpus().length) / gbps, round: t.round, at: (t.startSec + t.endSec) / 2 }]
      : [];
  });
}

/** The rows as the claims read them: their primary metric round by round, and CPU per Gbit. */
export const claimRowsOf = (rows: readonly SampledRow[]): ClaimRow[] =>
  rows.map((m) => ({
    arch: m.row.cell.arch.name,
    path: m.row.cell.path,
    ...(m.row.cell.mtu === undefined ? {} : { mtu: m.row.cell.mtu }),
    ...(m.row.cell.ipFamily === undefined ? {} : { ipFamily: m.row.cell.ipFamily }),
    test: m.row.test,
    params: m.row.params,
    better: METRIC_INFO[runTests.get(m.row.test).primary].better,
    values: timedValues(m),
    cpuPerGbit: cpuPerGbitValues(m),
  }));
