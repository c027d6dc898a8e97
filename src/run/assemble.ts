/**
 * From measured samples to results.json's rows: each row's statistics per metric, host CPU per
 * Gbit, retransmits, stability, its paired ratio to the `host` baseline's same row; then the
 * run's noise and the claims its intervals support.
 */
import { cpus, release, version } from 'node:os';
import type { FeatureReport } from '../doctor/features';
import type { NoiseLimits } from './noise';
import { converged, noiseFloor, ratioStat } from './paired';
import { claimRowsOf, moderateRows, rowRatios, withinPrecision, type RowModeration } from './row-ratios';
import type { RatioOptions as RowRatioOptions } from './row-ratios';
import { judgeClaims } from './verdicts';
import { type Claims, type MetricName, type NoiseJson, type ResultRow, type RunResults } from './results-schema';

import type { Measured, MeasuredRow } from './rounds';
import { describe, median, round, roundSig, unstable } from './stats';
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
    ipFamily: row.ipFamily,
    ...(row.cell.arch.proxied ? { proxy: row.cell.arch.proxied.proxy } : {}),
    ...(row.cell.arch.bigTcpVariant ? { bigTcp: true as const } : {}),
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
    ...(m.meters ? { meters: m.meters } : {}),
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

export interface RatioOptions extends RowRatioOptions {
  /** null: fixed rounds; a row is then resolved when within 5%. */
  readonly precisionPct: number | null;
}

/** A row's name in the summary and in noise (arch path test [label] [mtu N] [IPv6]). */
export function rowName(r: Pick<ResultRow, 'arch' | 'path' | 'test' | 'params' | 'underlayMtu' | 'ipFamily'>): string {
  const label = runTests.get(r.test).label(r.params);
  return (
    `${r.arch} ${r.path} ${r.test}${label ? ` ${label}` : ''}` +
    `${r.underlayMtu === undefined ? '' : ` mtu ${r.underlayMtu}`}${r.ipFamily === 6 ? ' IPv6' : ''}`
  );
}

/** Every row with its paired ratio to the baseline (plain and moderated) and whether it is resolved. */
export function assembleRows(
  measured: Measured,
  covThresholdPct: number,
  o: RatioOptions,
  moderation: RowModeration = moderateRows(measured.rows, o),
): ResultRow[] {
  const precision = o.precisionPct ?? 5;
  return measured.rows.map((m, i) => {
    const core = assembleRow(m, covThresholdPct);
    const ratios = rowRatios(measured.rows, m, o);
    const r = ratios && ratios.length ? ratioStat(ratios) : undefined;
    const iv = moderation.intervals[i];
    const moderated = iv
      ? {
          ci95: { low: roundSig(iv.ci95.low), high: roundSig(iv.ci95.high) },
          halfWidthPct: round(iv.halfWidthPct, 2),
          df: round(iv.df, 2),
          group: iv.group,
          kappa: round(iv.kappa, 4),
        }
      : null;
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
            moderated,
          }
        : null,
      // Without a ratio (no baseline partner), the row's own values, moderated the same way.
      resolved: core.arch === o.baseline || withinPrecision(iv, precision),
    };
  });
}

/** The noise groups and priors of the rows' moderation, for results.json. */
export function moderationOf(rows: readonly ResultRow[], mod: RowModeration): NonNullable<NoiseJson['moderation']> {
  const prior = (p?: { s02: number; d0: number }) =>
    p ? { spreadPct: round((Math.exp(Math.sqrt(p.s02)) - 1) * 100, 2), df: round(p.d0, 2) } : null;
  return {
    kappa: { main: round(mod.kappa.main, 4), noisy: round(mod.kappa.noisy, 4) },
    groups: [...mod.fits].flatMap(([group, f]) => {
      const n = rows.filter((_, i) => mod.logs[i]!.length > 0 && mod.groups[i] === group).length;
      return n === 0
        ? []
        : [
            {
              group,
              rows: n,
              prior: prior(f.main),
              setApart: f.setApart.map((i) => rowName(rows[i]!)),
              setApartPrior: prior(f.noisy),
            },
          ];
    }),
  };
}

/** The noise the samples saw, the idle labs, the noise floor, the rows not resolved. */
export function noiseOf(
  measured: Measured,
  rows: readonly ResultRow[],
  limits: NoiseLimits,
  o: RatioOptions,
  moderation?: RowModeration,
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
        row: rowName(r),
        covPct: r.metrics[r.primary]!.covPct,
        halfWidthPct: r.ratio?.moderated?.halfWidthPct ?? r.ratio?.halfWidthPct ?? null,
      })),
    ...(moderation ? { moderation: moderationOf(rows, moderation) } : {}),
  };
}

/** The rankings, the paper's orderings and the designs compared, from the rows' samples round by round. */
export function claimsOf(measured: Measured, baseline: string, equivalencePct: number): Claims {
  const c = judgeClaims(claimRowsOf(measured.rows), equivalencePct, baseline);
  return {
    rankings: c.rankings as Claims['rankings'],
    paper: c.paper as Claims['paper'],
    designs: c.designs,
    ...(c.serviceHop.length ? { serviceHop: c.serviceHop as Claims['serviceHop'] } : {}),
    ...(c.families.length ? { families: c.families as Claims['families'] } : {}),
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
    iperf2: features.iperf2.ok ? features.iperf2.detail : 'not installed',
    iproute2: features.iproute2.detail,
    node: process.version,
  };
}
