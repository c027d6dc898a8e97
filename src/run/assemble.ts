/**
 * From measured samples to results.json's rows: each row's statistics per metric, host CPU per
 * Gbit, retransmits, stability, and its share of the `host` baseline's same row.
 */
import { cpus, release } from 'node:os';
import type { FeatureReport } from '../doctor/features';
import type { MeasuredRow } from './measure';
import type { MetricName, ResultRow, RunResults } from './results-schema';
import { describe, median, round, unstable } from './stats';
import { runTests } from './tests';

export function assembleRow(m: MeasuredRow, covThresholdPct: number): Omit<ResultRow, 'baselinePct'> {
  const { samples } = m;
  const primary = runTests.get(m.test).primary;
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
    arch: m.cell.arch.name,
    family: m.cell.arch.family,
    path: m.cell.path,
    test: m.test,
    params: m.params,
    client: m.cell.endpoints.client,
    server: m.cell.endpoints.server,
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
  };
}

/** Every row with its share of the baseline's row of the same test and parameters (null without one). */
export function withBaseline(rows: readonly Omit<ResultRow, 'baselinePct'>[], baseline = 'host'): ResultRow[] {
  const key = (r: Pick<ResultRow, 'test' | 'params'>): string => `${r.test} ${JSON.stringify(r.params)}`;
  const base = new Map(rows.filter((r) => r.arch === baseline).map((r) => [key(r), r]));
  return rows.map((r) => {
    const b = base.get(key(r))?.metrics[r.primary]?.median;
    const mine = r.metrics[r.primary]?.median;
    return { ...r, baselinePct: b && mine !== undefined ? round((mine / b) * 100, 1) : null };
  });
}

export function environment(features: FeatureReport): RunResults['environment'] {
  return {
    kernel: release(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    iperf3: features.iperf3.detail,
    sockperf: features.sockperf.ok ? features.sockperf.detail : 'not installed',
    iproute2: features.iproute2.detail,
    node: process.version,
  };
}
