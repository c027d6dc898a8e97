/**
 * From measured samples to results.json's rows: each row's statistics per metric, host CPU per
 * Gbit, retransmits, stability, its paired ratio to the `host` baseline's same row; then the
 * run's noise and the claims its intervals support.
 */
import { cpus, release, version } from 'node:os';
import type { FeatureReport } from '../doctor/features';
import { paperChecks, rankings, type ClaimRow } from './claims';
import { designChecks } from './designs';
import type { NoiseLimits } from './noise';
import { converged, noiseFloor, pairRatios, ratioStat, type Pairing, type TimedValue } from './paired';
import {
  METRIC_INFO,
  type Claims,
  type MetricName,
  type NoiseJson,
  type ResultRow,
  type RunResults,
} from './results-schema';

const METRIC_BETTER = (m: MetricName): 'higher' | 'lower' => METRIC_INFO[m].better;
import { baselineOf, timedValues, type Measured, type MeasuredRow } from './rounds';
import { describe, median, round, unstable } from './stats';
import { runTests } from './tests';

type RowCore = Omit<ResultRow, 'baselinePct' | 'ratio' | 'resolved'>;

export function assembleRow(m: MeasuredRow, covThresholdPct: number): RowCore {
  const samples = m.taken.map((t) => t.sample);
  const row = m.row;
  const primary = runTests.get(row.test).primary;
  const metrics: ResultRow['metrics'] = {};
  for (const k of Object.keys(samples[0]!.metrics) as MetricName[]) {
    // gbps keeps 3 decimals (Mbit/s), pps whole packets, the rest 3 decimals of their unit.
    metrics[k] = describe(
      samples.map((s) => s.metrics[k]!),
      k === 'pps' ? 0 : 3,
    );
  }
  const cpuSamples = samples.flatMap((s) => (s.cpu ? [s.cpu] : []));
  const cpu = cpuSamples.length
    ? {
        user: median(cpuSamples.map((s) => s.user)),
        system: median(cpuSamples.map((s) => s.system)),
        softirq: median(cpuSamples.map((s) => s.softirq)),
        busy: median(cpuSamples.map((s) => s.busy)),
      }
    : undefined;
  const gbps = metrics.gbps?.median;
  // % of all CPUs → cores busy → core-seconds per second per Gbit/s = core-seconds per Gbit.
  const perGbit = (pct: number): number => round(((pct / 100) * cpus().length) / gbps!, 3);
  const retransmits = samples.some((s) => s.retransmits !== undefined)
    ? samples.reduce((n, s) => n + (s.retransmits ?? 0), 0)
    : undefined;
  return {
    arch: row.cell.arch.name,
    family: row.cell.arch.family,
    path: row.cell.path,
    ...(row.cell.mtu === undefined ? {} : { underlayMtu: row.cell.mtu }),
    test: row.test,
    params: row.params,
    client: row.cell.endpoints.client,
    server: row.cell.endpoints.server,
    primary,
    metrics,
    ...(retransmits !== undefined ? { retransmits } : {}),
    ...(cpu ? { cpu } : {}),
    ...(cpu && gbps
      ? {
          coreSecondsPerGbit: {
            user: perGbit(cpu.user),
            system: perGbit(cpu.system),
            softirq: perGbit(cpu.softirq),
            total: perGbit(cpu.busy),
          },
        }
      : {}),
    unstable: unstable(metrics[primary]!, covThresholdPct),
    ...(m.datapath ? { datapath: m.datapath } : {}),
    ...(m.ebpf ? { ebpf: m.ebpf } : {}),
    rounds: m.taken.map((t) => ({
      round: t.round,
      startSec: round(t.startSec, 2),
      endSec: round(t.endSec, 2),
      stealPct: t.noise.stealPct,
      outsidePct: t.noise.outsidePct,
      ...(t.noise.top ? { top: t.noise.top } : {}),
      load1: t.noise.load1,
      disturbed: t.noise.disturbed,
      ...(t.retriedBecause ? { retried: t.retriedBecause } : {}),
    })),
  };
}

export interface RatioOptions {
  readonly baseline: string;
  readonly pairing: Pairing;
  /** null: fixed rounds; a row is then resolved when within 5%. */
  readonly precisionPct: number | null;
}

/** The ratios of a row: paired to its baseline row, or (without one) its own values. */
export function rowRatios(rows: readonly MeasuredRow[], m: MeasuredRow, o: RatioOptions): number[] | undefined {
  const base = baselineOf(rows, m, o.baseline);
  return base ? pairRatios(timedValues(m), timedValues(base), o.pairing) : undefined;
}

/** Every row with its paired ratio to the baseline and whether it is resolved. */
export function assembleRows(measured: Measured, covThresholdPct: number, o: RatioOptions): ResultRow[] {
  const precision = o.precisionPct ?? 5;
  return measured.rows.map((m) => {
    const core = assembleRow(m, covThresholdPct);
    const ratios = rowRatios(measured.rows, m, o);
    const r = ratios && ratios.length ? ratioStat(ratios) : undefined;
    const values = timedValues(m)
      .map((v) => v.value)
      .filter((v) => v > 0);
    const own = values.length ? ratioStat(values) : undefined;
    return {
      ...core,
      baselinePct: r ? round(r.median * 100, 1) : null,
      ratio: r
        ? {
            n: r.n,
            median: r.median,
            geomean: r.geomean,
            ci95: r.ci95,
            halfWidthPct: Number.isFinite(r.halfWidthPct) ? r.halfWidthPct : null,
            ratios: r.ratios,
            converged: converged(r, precision),
          }
        : null,
      // Without a ratio (no baseline partner), the row's own values say how well it is known.
      resolved: core.arch === o.baseline || ((r ?? own) ? converged((r ?? own)!, precision) : false),
    };
  });
}

/** The noise the samples saw, the idle labs, the noise floor, the rows not resolved. */
export function noiseOf(
  measured: Measured,
  rows: readonly ResultRow[],
  limits: NoiseLimits,
  o: RatioOptions,
): NoiseJson {
  const all = measured.rows.flatMap((m) => m.taken);
  // A run of the attach test alone takes no samples of rows: its noise is zero, not NaN.
  const med = (xs: number[]): number => (xs.length ? round(median(xs), 1) : 0);
  const floor = noiseFloor(measured.rows.map((m) => rowRatios(measured.rows, m, o) ?? []).filter((r) => r.length));
  return {
    limits,
    samples: all.length,
    disturbed: all.filter((t) => t.noise.disturbed).length,
    retried: all.filter((t) => t.retriedBecause).length,
    stealPct: { median: med(all.map((t) => t.noise.stealPct)), max: Math.max(0, ...all.map((t) => t.noise.stealPct)) },
    outsidePct: {
      median: med(all.map((t) => t.noise.outsidePct)),
      max: Math.max(0, ...all.map((t) => t.noise.outsidePct)),
    },
    load1Max: Math.max(0, ...all.map((t) => t.noise.load1)),
    ...(measured.idle ? { idleLabs: measured.idle } : {}),
    floorPct: round((Math.exp(floor) - 1) * 100, 2),
    unresolved: rows
      .filter((r) => !r.resolved)
      .map((r) => ({
        row: `${r.arch} ${r.path} ${r.test}${runTests.get(r.test).label(r.params) ? ` ${runTests.get(r.test).label(r.params)}` : ''}${r.underlayMtu === undefined ? '' : ` mtu ${r.underlayMtu}`}`,
        covPct: r.metrics[r.primary]!.covPct,
        halfWidthPct: r.ratio?.halfWidthPct ?? null,
      })),
  };
}

/** Each throughput sample's host CPU per Gbit (core-seconds per Gbit), with its round and time. */
function cpuPerGbitValues(m: MeasuredRow): TimedValue[] {
  return m.taken.flatMap((t) => {
    const gbps = t.sample.metrics.gbps;
    return t.sample.cpu && gbps
      ? [{ value: ((t.sample.cpu.busy / 100) * cpus().length) / gbps, round: t.round, at: (t.startSec + t.endSec) / 2 }]
      : [];
  });
}

/** The rankings, the paper's orderings and the designs compared, from the rows' samples round by round. */
export function claimsOf(measured: Measured, baseline: string): Claims {
  const rows: ClaimRow[] = measured.rows.map((m) => ({
    arch: m.row.cell.arch.name,
    path: m.row.cell.path,
    ...(m.row.cell.mtu === undefined ? {} : { mtu: m.row.cell.mtu }),
    test: m.row.test,
    params: m.row.params,
    better: METRIC_BETTER(runTests.get(m.row.test).primary),
    values: timedValues(m),
    cpuPerGbit: cpuPerGbitValues(m),
  }));
  return {
    rankings: rankings(rows, baseline) as Claims['rankings'],
    paper: paperChecks(rows) as Claims['paper'],
    designs: designChecks(rows),
  };
}

export function environment(features: FeatureReport): RunResults['environment'] {
  return {
    kernel: release(),
    kernelBuild: version(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    iperf3: features.iperf3.detail,
    sockperf: features.sockperf.ok ? features.sockperf.detail : 'not installed',
    iproute2: features.iproute2.detail,
    node: process.version,
  };
}
