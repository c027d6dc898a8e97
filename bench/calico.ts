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
import { benchArgs, count, seconds } from './args';
import { BENCH_RUN, benchProgress, designRatio } from './common';
import { judge, targetLines, type Judged, type Target } from './targets';

const ARCHS = ['host', 'flannel-host-gw', 'flannel-vxlan', 'calico-bgp', 'calico-vxlan'];
const JOINED = ['calico-bgp', 'flannel-host-gw'];
const opts = benchArgs('npm run bench:calico -- [--rounds N] [--duration S] [--joins N] [--json]', {
  rounds: count(5),
  duration: seconds(2),
  joins: count(5),
});

/** The pairs whose same-round ratio, inter-node, is a target's figure (key: a/b). */
const RATIOS = [
  { a: 'calico-bgp', b: 'flannel-host-gw', path: 'inter-node', metric: 'throughput' },
  { a: 'calico-vxlan', b: 'flannel-vxlan', path: 'inter-node', metric: 'throughput' },
] as const;

const TARGETS: readonly Target[] = [
  {
    name: 'calico-bgp / flannel-host-gw throughput, inter-node',
    figure: 'calico-bgp/flannel-host-gw',
    direction: 'at least',
    threshold: 0.95,
    unit: '×',
    why: 'issue 20: the same kernel forwarding, no bridge, routes from another control plane',
  },
  {
    name: 'calico-vxlan / flannel-vxlan throughput, inter-node',
    figure: 'calico-vxlan/flannel-vxlan',
    direction: 'at least',
    threshold: 0.95,
    unit: '×',
    why: "issue 20: the kernel's VXLAN either way, routes per block and no bridge against a bridge",
  },
  {
    name: 'calico-bgp node-join convergence, p50',
    figure: 'convergedP50Ms',
    direction: 'at most',
    threshold: 1000,
    unit: 'ms',
    why: 'issue 20: a node joining is reachable from every other within a second',
  },
];

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
type DesignMetric = NonNullable<RunResults['claims']['designs']>[number]['metrics'][number];
const designMetric = (m: DesignMetric): string =>
  m.ratio
    ? `${m.metric} ${pct(m.ratio.geomean)} (${pct(m.ratio.ci95.low)}–${pct(m.ratio.ci95.high)}) ${m.verdict}`
    : `${m.metric} not measured`;

const abort = new AbortController();
process.once('SIGINT', () => abort.abort());

async function main(): Promise<void> {
  const { rounds, duration: durationSec, joins } = opts;
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
      onProgress: benchProgress(opts.json),
    });
    const joined = res.afterRounds?.['join'] as JoinJson | undefined;
    const targets = judge(TARGETS, {
      ...Object.fromEntries(RATIOS.map((r) => [`${r.a}/${r.b}`, designRatio(res, r)])),
      convergedP50Ms: joined?.archs.find((a) => a.arch === 'calico-bgp')?.converged.p50,
    });
    if (opts.json) {
      const settings = { rounds, durationSec, joins, kernel: res.environment.kernel, cpu: res.environment.cpuModel };
      const rows = res.rows.map((r) => ({
        arch: r.arch,
        path: r.path,
        test: r.test,
        median: r.metrics[r.primary]!.median,
        unit: r.primary,
        ofHostPct: r.baselinePct,
      }));
      const body = { targets, designs: res.claims.designs, rows, join: joined, noise: res.noise, settings };
      process.stdout.write(JSON.stringify(body, null, 2) + '\n');
      return;
    }
    print(res, targets, { rounds, durationSec, joins });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function print(
  res: RunResults,
  targets: readonly Judged[],
  s: { rounds: number; durationSec: number; joins: number },
): void {
  const lat = (arch: string, path: string): string => {
    const r = res.rows.find((x) => x.arch === arch && x.path === path && x.test === 'latency');
    return r ? r.metrics.rttP50Us!.median.toFixed(1) : '—';
  };
  const lines = [
    `Calico against flannel: ${s.rounds} interleaved rounds, ${s.durationSec} s per TCP sample, 1 s sockperf per ` +
      `latency sample, then ${s.joins} node joins per lab; kernel ${res.environment.kernel}`,
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
    ...targetLines(targets),
    '  (a ratio: same-round a/b and its 95% interval; MISSED only when the interval lies wholly below the target)',
    '',
    'Every Calico design compared (the report says the same):',
    ...(res.claims.designs ?? [])
      .filter((d) => d.a.startsWith('calico'))
      .map((d) => `  ${d.a}/${d.b} ${d.path}: ${d.metrics.map(designMetric).join('; ')}`),
  ];
  if (targets.find((t) => t.figure === 'convergedP50Ms')?.verdict === 'MISSED')
    lines.push(
      '',
      "Convergence: BIRD waits 0.75–1 s (at least 1 s, jittered by a quarter) before a session's first connect, " +
        'whatever `connect delay time` says; BGP SESSION UP above is that wait after node add registered the ' +
        'node (docs/calico.md).',
    );
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench/calico: ${abort.signal.aborted ? 'interrupted' : e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exitCode = abort.signal.aborted ? 130 : 1;
});
