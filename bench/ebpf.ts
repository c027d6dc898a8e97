/**
 * Benchmark: the eBPF data path (issue 19) against every design it replaces, in one interleaved
 * run — host, bridge, flannel-host-gw (a bridge and routes), flannel-vxlan, macvlan, ebpf-native
 * and ebpf-vxlan, intra-node and inter-node, TCP single stream and latency (sockperf p50), host CPU
 * per Gbit. Every target is judged by a same-round ratio interval (issue 10):
 *   - ebpf-native / flannel-host-gw, inter-node: throughput ≥ 1, latency ≤ 1, CPU per Gbit ≤ 1;
 *   - ebpf-native / bridge, intra-node: throughput ≥ 1.
 * A target is met when its interval does not lie wholly on the wrong side of 1 (a resolved "worse"
 * misses it); "exceeded" when it lies wholly on the right side. Beside the targets: what the eBPF
 * programs did during each counted sample (redirected vs left to the stack) and each row's CPU
 * split (user, system, softirq per Gbit), which is where a missed target's cycles show.
 *
 * Then, unless --no-perf (or perf is missing: scripts/setup.sh --bench installs it), where the
 * cycles go: TCP inter-node under `perf record -a` for flannel-host-gw, ebpf-native and macvlan,
 * each kernel area's core-milliseconds per Gbit (ebpf-perf.ts).
 *
 *   npm run bench:ebpf -- [--rounds N] [--duration S] [--perf-rounds N] [--perf-duration S] [--no-perf] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../src/arch';
import { table } from '../src/cli/output';
import { noiseLine } from '../src/report/claims-text';
import type { RunResults } from '../src/run/results-schema';
import { runBenchmark } from '../src/run/run';
import { parseTopology } from '../src/topology/load';
import { benchArgs, count, flag, seconds } from './args';
import { BENCH_RUN, benchProgress, designRatio } from './common';
import { judge, targetLines, type Judged, type Target } from './targets';
import { AREAS, profile, type Profile } from './ebpf-perf';
import { run } from '../src/lib/exec';

/** The architectures profiled with perf: the eBPF one, the design it replaces and the fastest native one. */
const PROFILED = ['flannel-host-gw', 'ebpf-native', 'macvlan'];

const ARCHS = ['host', 'bridge', 'flannel-host-gw', 'flannel-vxlan', 'macvlan', 'ebpf-native', 'ebpf-vxlan'];

const opts = benchArgs(
  'npm run bench:ebpf -- [--rounds N] [--duration S] [--perf-rounds N] [--perf-duration S] [--no-perf] [--json]',
  {
    rounds: count(6),
    duration: seconds(2),
    'perf-rounds': count(3),
    'perf-duration': seconds(3),
    'no-perf': flag,
  },
);

/** The ratios a/b that are the targets' figures, each named a/b path metric. */
const RATIOS = [
  { a: 'ebpf-native', b: 'flannel-host-gw', path: 'inter-node', metric: 'throughput' },
  { a: 'ebpf-native', b: 'flannel-host-gw', path: 'inter-node', metric: 'latency' },
  { a: 'ebpf-native', b: 'flannel-host-gw', path: 'inter-node', metric: 'cpuPerGbit' },
  { a: 'ebpf-native', b: 'bridge', path: 'intra-node', metric: 'throughput' },
] as const;
const key = (r: (typeof RATIOS)[number]): string => `${r.a}/${r.b} ${r.path} ${r.metric}`;

/** Issue 19: the eBPF data path at least matches each design it replaces, on the path where they differ. */
const ratioTarget = (r: (typeof RATIOS)[number], direction: Target['direction'], why: string): Target => ({
  name: key(r),
  figure: key(r),
  direction,
  threshold: 1,
  unit: '×',
  why: `issue 19: ${why}`,
});
const TARGETS: readonly Target[] = [
  ratioTarget(RATIOS[0], 'at least', 'host routing in eBPF moves at least what a bridge and routes move'),
  ratioTarget(RATIOS[1], 'at most', 'host routing in eBPF answers no slower than a bridge and routes'),
  ratioTarget(RATIOS[2], 'at most', 'host routing in eBPF costs no more CPU per Gbit than a bridge and routes'),
  ratioTarget(RATIOS[3], 'at least', 'bpf_redirect_peer between pods of one node moves at least what a bridge moves'),
];

/** Each area's core-ms per Gbit, the architectures side by side, and eBPF's difference from flannel-host-gw. */
function profileLines(ps: readonly Profile[]): string[] {
  const areas = [...AREAS.map(([a]) => a).filter((a) => a !== 'idle'), 'other kernel', 'user space'];
  const at = (p: Profile, a: string): number => p.msPerGbit[a] ?? 0;
  const [gw, eb] = [ps.find((p) => p.arch === 'flannel-host-gw'), ps.find((p) => p.arch === 'ebpf-native')];
  const sum = (p: Profile): number => areas.reduce((n, a) => n + at(p, a), 0);
  return [
    '',
    'Where the cycles go: TCP inter-node under perf record -a (cpu-clock), core-ms per Gbit by kernel area ' +
      '(symbols sorted into areas by name, bench/ebpf-perf.ts; idle left out):',
    table(
      ['AREA', ...ps.map((p) => p.arch), ...(gw && eb ? ['ebpf − host-gw'] : [])],
      [
        ...areas.map((a) => [
          a,
          ...ps.map((p) => at(p, a).toFixed(1)),
          ...(gw && eb ? [(at(eb, a) - at(gw, a)).toFixed(1)] : []),
        ]),
        ['total', ...ps.map((p) => sum(p).toFixed(1)), ...(gw && eb ? [(sum(eb) - sum(gw)).toFixed(1)] : [])],
        ['Gbit/s (median)', ...ps.map((p) => p.gbps.toFixed(2)), ...(gw && eb ? [''] : [])],
      ],
      ps.map((_, i) => i + 1).concat(gw && eb ? [ps.length + 1] : []),
    ),
  ];
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
type DesignMetric = NonNullable<RunResults['claims']['designs']>[number]['metrics'][number];
const designMetric = (m: DesignMetric): string =>
  m.ratio
    ? `${m.metric} ${pct(m.ratio.geomean)} (${pct(m.ratio.ci95.low)}–${pct(m.ratio.ci95.high)}) ${m.verdict}`
    : `${m.metric} not measured`;

/** Ctrl-C: the run and the profile stop and take their labs down (their finally blocks), then exit 130. */
const abort = new AbortController();
process.once('SIGINT', () => abort.abort());

async function main(): Promise<void> {
  const { rounds, duration: durationSec } = opts;
  const out = mkdtempSync(join(tmpdir(), 'cnilab-bench-ebpf-'));
  try {
    const res = await runBenchmark({
      ...BENCH_RUN,
      topology: parseTopology('', 'default', { name: 'bench-ebpf' }),
      archs: ARCHS.map((n) => architectures.get(n)),
      paths: ['intra-node', 'inter-node'],
      tests: ['tcp', 'latency'],
      durationSec,
      rounds: { fixed: rounds },
      seed: 19,
      outDir: out,
      signal: abort.signal,
      onProgress: benchProgress(opts.json),
    });
    const judged = judge(TARGETS, Object.fromEntries(RATIOS.map((r) => [key(r), designRatio(res, r)])));
    const rows = res.rows.map((r) => ({
      arch: r.arch,
      family: r.family,
      path: r.path,
      test: r.test,
      median: r.metrics[r.primary]!.median,
      unit: r.primary,
      ofHostPct: r.baselinePct,
      coreSecPerGbit: r.coreSecondsPerGbit,
      programs: r.meters,
    }));
    const skipped = res.skipped.map((s) => `${s.arch}${s.path ? ` ${s.path}` : ''}: ${s.reason}`);
    const perfMissing = opts['no-perf']
      ? '--no-perf'
      : await run('perf', ['--version'], { check: false }).then(
          (r) => (r.code === 0 ? undefined : 'perf is not installed (scripts/setup.sh --bench)'),
          () => 'perf is not installed (scripts/setup.sh --bench)',
        );
    if (!opts.json && !perfMissing) process.stderr.write('profiling TCP inter-node under perf record -a\n');
    const profiles = perfMissing
      ? undefined
      : await profile(PROFILED, opts['perf-rounds'], opts['perf-duration'], abort.signal);
    if (opts.json) {
      const settings = { rounds, durationSec, kernel: res.environment.kernel, cpu: res.environment.cpuModel };
      const body = {
        targets: judged,
        designs: res.claims.designs,
        rows,
        profile: profiles ?? perfMissing,
        skipped,
        noise: res.noise,
        settings,
      };
      process.stdout.write(JSON.stringify(body, null, 2) + '\n');
      return;
    }
    print(res, judged, rounds, durationSec, skipped);
    process.stdout.write(profiles ? profileLines(profiles).join('\n') + '\n' : `\nno profile: ${perfMissing}\n`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function print(
  res: RunResults,
  judged: readonly Judged[],
  rounds: number,
  durationSec: number,
  skipped: string[],
): void {
  const lines: string[] = [
    `eBPF against the designs it replaces: ${rounds} interleaved rounds, ${durationSec} s per TCP sample, 1 s ` +
      `sockperf per latency sample; kernel ${res.environment.kernel}`,
    noiseLine(res),
    '',
    table(
      ['ARCH', 'FAMILY', 'PATH', 'TCP GBIT/S', 'OF HOST', 'RETRANSMITS', 'P50 µs', 'CORE-S/GBIT usr+sys+sirq'],
      res.rows
        .filter((r) => r.test === 'tcp')
        .map((r) => {
          const lat = res.rows.find((x) => x.arch === r.arch && x.path === r.path && x.test === 'latency');
          const c = r.coreSecondsPerGbit;
          return [
            r.arch,
            r.family,
            r.path,
            r.metrics.gbps!.median.toFixed(2),
            r.baselinePct === null ? '—' : `${r.baselinePct.toFixed(0)}%`,
            String(r.retransmits ?? '—'),
            lat ? lat.metrics.rttP50Us!.median.toFixed(1) : '—',
            c ? `${c.total.toFixed(3)} = ${c.user.toFixed(3)}+${c.system.toFixed(3)}+${c.softirq.toFixed(3)}` : '—',
          ];
        }),
      [3, 4, 5, 6],
    ),
    '',
    ...targetLines(judged),
    '  (same-round ratio a/b and its 95% interval; met unless the interval lies wholly on the wrong side of 1)',
    '',
    'Every design compared (the report says the same):',
    ...(res.claims.designs ?? []).map((d) => `  ${d.a}/${d.b} ${d.path}: ${d.metrics.map(designMetric).join('; ')}`),
    '',
    'What the eBPF programs did during each counted TCP sample (packets; MB):',
    ...res.rows
      .filter((r) => r.test === 'tcp' && r.meters?.length)
      .flatMap((r) =>
        r.meters!.flatMap((g) =>
          g.readings.map(
            ({ name, node, counts: c }) =>
              `  ${r.arch} ${r.path} ${name}@${node}: peer ${c['peer']}, neigh ${c['neigh']}, ` +
              (`redirect ${c['redirect']}, pass ${c['pass']}, ` +
                `drop ${c['drop']}; ${(c['redirectedBytes']! / 1e6).toFixed(0)} `) +
              `MB redirected, ${(c['passedBytes']! / 1e6).toFixed(0)} MB passed`,
          ),
        ),
      ),
  ];
  const missed = judged.filter((j) => j.verdict === 'MISSED');
  if (missed.length)
    lines.push(
      '',
      `${missed.length} target(s) missed. Where the cycles go: the CORE-S/GBIT split above (softirq is the ` +
        `receive path, system the sender's stack), and "pass" above counts packets the programs left to the ` +
        `node's IP stack; docs/ebpf.md reads them.`,
    );
  if (skipped.length) lines.push('', 'skipped:', ...skipped.map((s) => `  ${s}`));
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench/ebpf: ${abort.signal.aborted ? 'interrupted' : e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exitCode = abort.signal.aborted ? 130 : 1;
});
