/**
 * Benchmark: Calico's two modes against the flannel designs they compete with, in one interleaved
 * run — host, flannel-host-gw, flannel-vxlan, calico-bgp and calico-vxlan, intra-node and
 * inter-node, TCP single stream and latency (sockperf p50) — then, in the same labs, node-join
 * convergence for calico-bgp (BGP) and flannel-host-gw (the lease watch) over 5 joins. Targets
 * (issue 20), judged by same-round ratio intervals (issue 10), inter-node:
 *   - calico-bgp / flannel-host-gw throughput ≥ 0.95 (same kernel forwarding, no bridge, routes
 *     from another control plane);
 *   - calico-vxlan / flannel-vxlan throughput ≥ 0.95;
 *   - node-join convergence p50 ≤ 1 s (calico-bgp).
 * A ratio target is MISSED when its interval lies wholly below 0.95, exceeded when wholly at or
 * above it, met otherwise (the run cannot tell).
 *
 *   npm run bench:calico -- [--rounds N] [--duration S] [--joins N] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../src/arch';
import { table } from '../src/cli/output';
import { figure } from '../src/lib/format';
import { noiseLine } from '../src/report/claims-text';
import type { JoinJson } from '../src/run/join/schema';
import type { RunResults } from '../src/run/results-schema';
import { runBenchmark } from '../src/run/run';
import { parseTopology } from '../src/topology/load';
import { arg, BENCH_RUN, benchProgress, wantJson } from './common';

const ARCHS = ['host', 'flannel-host-gw', 'flannel-vxlan', 'calico-bgp', 'calico-vxlan'];
const JOINED = ['calico-bgp', 'flannel-host-gw'];
const FLOOR = 0.95;
const CONVERGED_P50_MS = 1000;

interface RatioTarget {
  readonly a: string;
  readonly b: string;
  readonly metric: 'throughput' | 'latency';
}

const RATIO_TARGETS: readonly RatioTarget[] = [
  { a: 'calico-bgp', b: 'flannel-host-gw', metric: 'throughput' },
  { a: 'calico-vxlan', b: 'flannel-vxlan', metric: 'throughput' },
];

type Verdict = 'exceeded' | 'met' | 'MISSED' | 'not measured';

interface JudgedRatio extends RatioTarget {
  readonly ratio?: { n: number; geomean: number; low: number; high: number };
  readonly verdict: Verdict;
}

/** a/b inter-node, as the run's designs compared have it, against the floor. */
function judge(res: RunResults, t: RatioTarget): JudgedRatio {
  const design = res.claims.designs?.find((d) => d.a === t.a && d.b === t.b && d.path === 'inter-node');
  const m = design?.metrics.find((x) => x.metric === t.metric);
  if (!m?.ratio) return { ...t, verdict: 'not measured' };
  const ratio = { n: m.ratio.n, geomean: m.ratio.geomean, low: m.ratio.ci95.low, high: m.ratio.ci95.high };
  const verdict = ratio.high < FLOOR ? 'MISSED' : ratio.low >= FLOOR ? 'exceeded' : 'met';
  return { ...t, ratio, verdict };
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

const abort = new AbortController();
process.once('SIGINT', () => abort.abort());

async function main(): Promise<void> {
  const rounds = arg('rounds', 5);
  const durationSec = arg('duration', 2);
  const joins = arg('joins', 5);
  const out = mkdtempSync(join(tmpdir(), 'cnilab-bench-calico-'));
  try {
    const res = await runBenchmark({
      ...BENCH_RUN,
      topology: parseTopology('', 'default', { name: 'bench-calico' }),
      archs: ARCHS.map((n) => architectures.get(n)),
      paths: ['intra-node', 'inter-node'],
      tests: ['tcp', 'latency'],
      afterRounds: new Map([['join', { samples: joins }]]),
      durationSec,
      rounds: { fixed: rounds },
      seed: 20,
      outDir: out,
      signal: abort.signal,
      onProgress: benchProgress,
    });
    const ratios = RATIO_TARGETS.map((t) => judge(res, t));
    const joined = res.afterRounds?.['join'] as JoinJson | undefined;
    const calico = joined?.archs.find((a) => a.arch === 'calico-bgp');
    const convergence = calico
      ? { p50: calico.converged.p50, verdict: (calico.converged.p50 <= CONVERGED_P50_MS ? 'met' : 'MISSED') as Verdict }
      : { verdict: 'not measured' as Verdict };
    if (wantJson) {
      const settings = { rounds, durationSec, joins, kernel: res.environment.kernel, cpu: res.environment.cpuModel };
      const rows = res.rows.map((r) => ({
        arch: r.arch,
        path: r.path,
        test: r.test,
        median: r.metrics[r.primary]!.median,
        unit: r.primary,
        ofHostPct: r.baselinePct,
      }));
      const targets = { ratios, convergence };
      const body = { targets, designs: res.claims.designs, rows, join: joined, noise: res.noise, settings };
      process.stdout.write(JSON.stringify(body, null, 2) + '\n');
      return;
    }
    print(res, ratios, convergence, { rounds, durationSec, joins });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function print(
  res: RunResults,
  ratios: readonly JudgedRatio[],
  convergence: { p50?: number; verdict: Verdict },
  s: { rounds: number; durationSec: number; joins: number },
): void {
  const lat = (arch: string, path: string): string => {
    const r = res.rows.find((x) => x.arch === arch && x.path === path && x.test === 'latency');
    return r ? r.metrics.rttP50Us!.median.toFixed(1) : '—';
  };
  const lines = [
    `Calico against flannel: ${s.rounds} interleaved rounds, ${s.durationSec} s per TCP sample, 1 s sockperf per latency sample, then ${s.joins} node joins per lab; kernel ${res.environment.kernel}`,
    noiseLine(res),
    '',
    table(
      ['ARCH', 'FAMILY', 'PATH', 'TCP GBIT/S', 'OF HOST', 'P50 µs'],
      res.rows
        .filter((r) => r.test === 'tcp')
        .map((r) => [
          r.arch,
          r.family,
          r.path,
          r.metrics.gbps!.median.toFixed(2),
          r.baselinePct === null ? '—' : `${r.baselinePct.toFixed(0)}%`,
          lat(r.arch, r.path),
        ]),
      [3, 4, 5],
    ),
    '',
    `Node join (ms, p50 / p90 over ${s.joins} joins; converged: a pod on every other node reaches the new node's pod):`,
    table(
      ['ARCH', 'NODE ADD', 'CONVERGED', 'BGP SESSION UP', 'BGP ROUTE RECEIVED', 'NODE REMOVE'],
      ((res.afterRounds?.['join'] as JoinJson | undefined)?.archs ?? [])
        .filter((a) => JOINED.includes(a.arch))
        .map((a) => {
          const two = (x?: { p50: number; p90: number }): string => (x ? `${figure(x.p50)} / ${figure(x.p90)}` : '—');
          return [
            a.arch,
            two(a.join),
            two(a.converged),
            two(a.details?.find((d) => d.key === 'bgpSessionUp')?.ms),
            two(a.details?.find((d) => d.key === 'bgpRouteReceived')?.ms),
            two(a.leave),
          ];
        }),
      [1, 2, 3, 4, 5],
    ),
    '',
    `Targets (same-round ratio a/b inter-node, 95% interval; MISSED only when the interval lies wholly below ${pct(FLOOR)}):`,
    ...ratios.map((j) =>
      j.ratio
        ? `  ${j.a}/${j.b} ${j.metric} ≥ ${pct(FLOOR)}: ${pct(j.ratio.geomean)} (${pct(j.ratio.low)}–${pct(j.ratio.high)}, ${j.ratio.n} rounds) — ${j.verdict}`
        : `  ${j.a}/${j.b} ${j.metric}: not measured`,
    ),
    convergence.p50 === undefined
      ? '  calico-bgp node-join convergence: not measured'
      : `  calico-bgp node-join convergence p50 ≤ ${figure(CONVERGED_P50_MS)} ms: ${figure(convergence.p50)} ms — ${convergence.verdict}`,
    '',
    'Every Calico design compared (the report says the same):',
    ...(res.claims.designs ?? [])
      .filter((d) => d.a.startsWith('calico'))
      .map(
        (d) =>
          `  ${d.a}/${d.b} ${d.path}: ${d.metrics.map((m) => (m.ratio ? `${m.metric} ${pct(m.ratio.geomean)} (${pct(m.ratio.ci95.low)}–${pct(m.ratio.ci95.high)}) ${m.verdict}` : `${m.metric} not measured`)).join('; ')}`,
      ),
  ];
  if (convergence.verdict === 'MISSED')
    lines.push(
      '',
      "Convergence: BIRD waits 0.75–1 s (at least 1 s, jittered by a quarter) before a session's first connect, whatever `connect delay time` says; BGP SESSION UP above is that wait after node add registered the node (docs/calico.md).",
    );
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench/calico: ${abort.signal.aborted ? 'interrupted' : e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exitCode = abort.signal.aborted ? 130 : 1;
});
