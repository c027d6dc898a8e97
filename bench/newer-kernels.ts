/**
 * Benchmark: the kernels users move to (issue 36), in two parts.
 *
 * On this host: BIG TCP on against off (docs/big-tcp.md) for ebpf-native and flannel-host-gw, in one
 * interleaved run (`--big-tcp off,on`: each architecture and its `+bigtcp` variant side by side),
 * intra- and inter-node, TCP with 1 stream (tcp) and 4 (tcp-parallel), with each sample's host CPU.
 * Each on/off pair is judged by its same-round ratio with the moderated 95% interval of "Answers in
 * five minutes": 1 stream's throughput and CPU per Gbit from the run's designs compared, 4 streams'
 * throughput by the same judge over the run's tcp-parallel rows. Then where the cycles go: TCP
 * inter-node of each pair under `perf record -a` (bench/ebpf-perf.ts), core-ms per Gbit by kernel area.
 *
 * In the 6.12 kernel tier's VM (scripts/kernel-vm.sh --kernel 6.12, when fetched): ebpf-netkit
 * against ebpf-native, a short run of both — functional only (software emulation: no figures) —
 * whose rows' eBPF meters must show each architecture's own program carrying its pods' packets:
 * from_netkit for ebpf-netkit, from_pod for ebpf-native, from_netdev into the pod across nodes.
 *
 *   npm run bench:newer-kernels -- [--rounds N] [--duration S] [--perf-rounds N] [--perf-duration S]
 *                                  [--no-perf] [--no-vm] [--json]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../src/arch';
import { table } from '../src/cli/output';
import { run } from '../src/lib/exec';
import { REPO_ROOT } from '../src/lib/paths';
import { bigTcpArchs } from '../src/run/big-tcp';
import { DEFAULT_EQUIVALENCE_PCT, pairJudge, type ClaimRow } from '../src/run/claims';
import type { RunResults } from '../src/run/results-schema';
import { runBenchmark } from '../src/run/run';
import { parseTopology } from '../src/topology/load';
import { benchArgs, count, flag, seconds } from './args';
import { BENCH_RUN, benchProgress } from './common';
import { AREAS, profile, type Profile } from './ebpf-perf';
import { judge, targetLines, type Judged, type Measurement, type Target } from './targets';

const ARCHS = ['ebpf-native', 'flannel-host-gw'];
const PATHS = ['intra-node', 'inter-node'] as const;
const STREAMS = [1, 4] as const;

const opts = benchArgs(
  'npm run bench:newer-kernels -- [--rounds N] [--duration S] [--perf-rounds N] [--perf-duration S] ' +
    '[--no-perf] [--no-vm] [--json]',
  {
    rounds: count(8),
    duration: seconds(2),
    'perf-rounds': count(3),
    'perf-duration': seconds(3),
    'no-perf': flag,
    'no-vm': flag,
  },
);

const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
const say = (s: string): void => void (opts.json || process.stderr.write(`${s}\n`));

type Verdict = 'better' | 'worse' | 'equivalent' | 'not resolved' | 'not measured';
interface Pair {
  readonly arch: string;
  readonly path: string;
  readonly streams: number;
  readonly metric: 'throughput' | 'cpuPerGbit';
  readonly verdict: Verdict;
  /** on/off, with its 95% interval. */
  readonly ratio?: { readonly geomean: number; readonly low: number; readonly high: number };
}

/** A result row as the claims read it: its primary metric round by round. */
function claimRow(r: RunResults['rows'][number]): ClaimRow {
  const m = r.metrics[r.primary]!;
  return {
    arch: r.arch,
    path: r.path,
    test: r.test,
    params: r.params,
    better: 'higher',
    values: m.samples.map((value, i) => ({
      value,
      round: r.rounds[i]!.round,
      at: (r.rounds[i]!.startSec + r.rounds[i]!.endSec) / 2,
    })),
  };
}

/**
 * Every on/off pair: 1 stream from the designs compared (throughput, CPU per Gbit), 4 streams'
 * throughput judged here over the tcp-parallel rows (the same moderated judge, its own pairs).
 */
function pairs(res: RunResults): Pair[] {
  const out: Pair[] = [];
  const parallel = res.rows.filter((r) => r.test === 'tcp-parallel');
  const twins = parallel.flatMap((on) => {
    const off = parallel.find((r) => `${r.arch}+bigtcp` === on.arch && r.path === on.path);
    return off ? [[claimRow(on), claimRow(off)] as const] : [];
  });
  const judge4 = pairJudge(twins, res.settings.equivalencePct ?? DEFAULT_EQUIVALENCE_PCT);
  for (const arch of ARCHS)
    for (const path of PATHS) {
      const d = res.claims.designs?.find((x) => x.a === `${arch}+bigtcp` && x.b === arch && x.path === path);
      for (const metric of ['throughput', 'cpuPerGbit'] as const) {
        const m = d?.metrics.find((x) => x.metric === metric);
        out.push({
          arch,
          path,
          streams: 1,
          metric,
          verdict: m?.verdict ?? 'not measured',
          ...(m?.ratio ? { ratio: { geomean: m.ratio.geomean, low: m.ratio.ci95.low, high: m.ratio.ci95.high } } : {}),
        });
      }
      const twin = twins.find(([on]) => on.arch === `${arch}+bigtcp` && on.path === path);
      const c = twin && judge4(twin[0], twin[1]);
      out.push({
        arch,
        path,
        streams: 4,
        metric: 'throughput',
        verdict: c?.verdict ?? 'not measured',
        ...(c ? { ratio: { geomean: c.ratio.geomean, low: c.ratio.ci95.low, high: c.ratio.ci95.high } } : {}),
      });
    }
  return out;
}

const resolved = (p: Pair): boolean => p.verdict !== 'not resolved' && p.verdict !== 'not measured';

const TARGETS: readonly Target[] = [
  {
    name: 'BIG TCP on/off throughput pairs resolved, either way (2 architectures × 2 paths × 1 and 4 streams)',
    figure: 'throughput',
    direction: 'at least',
    threshold: ARCHS.length * PATHS.length * STREAMS.length,
    unit: '',
    why: 'issue 36: the difference resolved with the intervals of "Answers in five minutes"',
  },
  {
    name: 'BIG TCP on/off CPU-per-Gbit pairs resolved, either way (1 stream)',
    figure: 'cpu',
    direction: 'at least',
    threshold: ARCHS.length * PATHS.length,
    unit: '',
    why: 'issue 36: CPU per Gbit, resolved',
  },
  {
    name: 'in the 6.12 VM, architectures whose own programs carried their pods (ebpf-netkit, ebpf-native)',
    figure: 'vm',
    direction: 'at least',
    threshold: 2,
    unit: '',
    why: 'issue 36: ebpf-netkit against ebpf-native functional, counters proving the programs carried the packets',
  },
];

/**
 * The program that takes each architecture's pods' packets, and the one it must never use: from_netkit
 * on netkit pairs, from_pod on veths. Across nodes, from_netdev hands them to the pod on the other side.
 */
const CARRIERS: Record<string, { readonly own: string; readonly never: string }> = {
  'ebpf-netkit': { own: 'from_netkit', never: 'from_pod' },
  'ebpf-native': { own: 'from_pod', never: 'from_netkit' },
};

interface VmCheck {
  readonly arch: string;
  readonly carried: boolean;
  /** Per path: the packets each program redirected during the counted sample. */
  readonly programs: Record<string, Record<string, number>>;
}

/** What each program redirected in a row's counted sample, by its meters. */
function redirected(row: RunResults['rows'][number]): Record<string, number> {
  const moved: Record<string, number> = {};
  for (const rd of (row.meters ?? []).flatMap((g) => g.readings)) {
    const c = rd.counts as Record<string, number | undefined>;
    moved[rd.name] = (moved[rd.name] ?? 0) + (c['peer'] ?? 0) + (c['neigh'] ?? 0) + (c['redirect'] ?? 0);
  }
  return moved;
}

/**
 * ebpf-netkit and ebpf-native in the 6.12 VM: a short run of both (2 compute nodes, 2 pods each: both paths),
 * read back for what their programs carried; the reason where the VM cannot start.
 */
async function vmCheck(): Promise<{ checks: VmCheck[]; kernel: string } | string> {
  const script = join(REPO_ROOT, 'scripts/kernel-vm.sh');
  const ready = await run(script, ['--kernel', '6.12', 'check'], { check: false });
  if (ready.code !== 0) return `no 6.12 VM: ${ready.stderr.trim().split('\n').pop() ?? ''}`;
  const share = mkdtempSync(join(tmpdir(), 'cnilab-bench-nk-'));
  try {
    say('in the 6.12 VM (software emulation: function, not speed): ebpf-native and ebpf-netkit');
    writeFileSync(join(share, 'topology.yaml'), 'topology:\n  computeNodes: 2\n  defaults: {pods: 2}\n');
    const out = join(share, 'run');
    const r = await run(
      script,
      [
        ...['--kernel', '6.12', '--timeout', '1500', '--share', share, '--'],
        ...[process.execPath, join(REPO_ROOT, 'dist/src/cli/main.js'), 'run', '--lab', 'bnk'],
        ...['--arch', 'ebpf-native,ebpf-netkit', '--path', 'intra-node,inter-node', '--tests', 'tcp'],
        ...['--repeats', '2', '--duration', '2', '--topology', join(share, 'topology.yaml'), '--out', out],
      ],
      { check: false, signal: abort.signal },
    );
    const file = join(out, 'results.json');
    if (r.code !== 0 || !existsSync(file))
      return `the run in the VM failed (exit ${r.code}): ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' / ')}`;
    const res = JSON.parse(readFileSync(file, 'utf8')) as RunResults;
    const checks = Object.entries(CARRIERS).map(([arch, c]): VmCheck => {
      const programs = Object.fromEntries(
        res.rows.filter((x) => x.arch === arch && x.test === 'tcp').map((x) => [x.path, redirected(x)]),
      );
      const at = (path: string, prog: string): number => programs[path]?.[prog] ?? 0;
      const carried =
        at('intra-node', c.own) > 0 &&
        at('inter-node', c.own) > 0 &&
        at('inter-node', 'from_netdev') > 0 &&
        Object.keys(programs).every((path) => at(path, c.never) === 0);
      return { arch, carried, programs };
    });
    return { checks, kernel: res.environment.kernel };
  } finally {
    rmSync(share, { recursive: true, force: true });
  }
}

/** Each area's core-ms per Gbit, each pair side by side. */
function profileLines(ps: readonly Profile[]): string[] {
  const areas = [...AREAS.map(([a]) => a).filter((a) => a !== 'idle'), 'other kernel', 'user space'];
  const at = (p: Profile, a: string): number => p.msPerGbit[a] ?? 0;
  const sum = (p: Profile): number => areas.reduce((n, a) => n + at(p, a), 0);
  return [
    '',
    'Where the cycles go: TCP inter-node under perf record -a (cpu-clock), core-ms per Gbit by kernel area ' +
      '(symbols sorted into areas by name, bench/ebpf-perf.ts; idle left out):',
    table(
      ['AREA', ...ps.map((p) => p.arch)],
      [
        ...areas.map((a) => [a, ...ps.map((p) => at(p, a).toFixed(1))]),
        ['total', ...ps.map((p) => sum(p).toFixed(1))],
        ['Gbit/s (median)', ...ps.map((p) => p.gbps.toFixed(2))],
      ],
      ps.map((_, i) => i + 1),
    ),
  ];
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

/** BIG TCP on and off for ARCHS, side by side in one run. */
function measure(out: string): Promise<RunResults> {
  return runBenchmark({
    ...BENCH_RUN,
    topology: parseTopology('', 'default', { name: 'bench-nk' }),
    archs: bigTcpArchs(
      ARCHS.map((n) => architectures.get(n)),
      ['off', 'on'],
    ),
    paths: [...PATHS],
    tests: ['tcp', 'tcp-parallel'],
    streams: 4,
    durationSec: opts.duration,
    rounds: { fixed: opts.rounds },
    seed: 36,
    outDir: out,
    signal: abort.signal,
    onProgress: benchProgress(opts.json),
  });
}

/** Where the cycles go with BIG TCP off and on, or why not profiled. */
async function profiled(): Promise<Profile[] | string> {
  const missing = opts['no-perf']
    ? '--no-perf'
    : await run('perf', ['--version'], { check: false }).then(
        (r) => (r.code === 0 ? undefined : 'perf is not installed (scripts/setup.sh --bench)'),
        () => 'perf is not installed (scripts/setup.sh --bench)',
      );
  if (missing) return missing;
  say('profiling TCP inter-node under perf record -a, BIG TCP off and on');
  return profile(
    ARCHS.flatMap((arch) => [
      { label: arch, arch },
      { label: `${arch}+bigtcp`, arch, topology: 'bigTcp: true' },
    ]),
    opts['perf-rounds'],
    opts['perf-duration'],
    abort.signal,
  );
}

type Vm = Awaited<ReturnType<typeof vmCheck>>;

function vmLines(vm: Vm): string {
  if (typeof vm === 'string') return `6.12 VM: not run (${vm})`;
  const programs = (c: VmCheck): string =>
    Object.entries(c.programs)
      .map(
        ([path, m]) =>
          `${path} ${Object.entries(m)
            .map(([p, n]) => `${p} ${n}`)
            .join(', ')}`,
      )
      .join('; ');
  return [
    `6.12 VM (guest kernel ${vm.kernel}, software emulation: no figures) — packets each program redirected:`,
    ...vm.checks.map(
      (c) =>
        `  ${c.arch}: ${programs(c)} — ${c.carried ? 'carried by its own programs' : 'NOT carried by its programs'}`,
    ),
  ].join('\n');
}

function textLines(
  res: RunResults,
  ps: readonly Pair[],
  profiles: Profile[] | string,
  vm: Vm,
  judged: Judged[],
): string[] {
  return [
    `BIG TCP on (+bigtcp) against off, ${opts.rounds} interleaved rounds of ${opts.duration} s, ` +
      `kernel ${res.environment.kernel}:`,
    table(
      ['ARCH', 'PATH', 'TEST', 'GBIT/S', 'CORE-S/GBIT'],
      res.rows.map((r) => [
        r.arch,
        r.path,
        r.test,
        r.metrics[r.primary]!.median.toFixed(2),
        r.coreSecondsPerGbit ? r.coreSecondsPerGbit.total.toFixed(3) : '—',
      ]),
      [3, 4],
    ),
    '',
    'on/off, same-round ratio (95% moderated interval):',
    table(
      ['ARCH', 'PATH', 'STREAMS', 'METRIC', 'ON/OFF', 'VERDICT'],
      ps.map((p) => [
        p.arch,
        p.path,
        String(p.streams),
        p.metric === 'cpuPerGbit' ? 'CPU per Gbit' : 'throughput',
        p.ratio ? `${pct(p.ratio.geomean)} (${pct(p.ratio.low)}–${pct(p.ratio.high)})` : '—',
        p.verdict,
      ]),
      [2],
    ),
    ...(typeof profiles === 'string' ? ['', `no profile: ${profiles}`] : profileLines(profiles)),
    '',
    vmLines(vm),
    '',
    ...targetLines(judged),
  ];
}

async function main(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'cnilab-bench-newer-'));
  try {
    const res = await measure(out);
    const ps = pairs(res);
    const profiles = await profiled();
    const vm = opts['no-vm'] ? '--no-vm' : await vmCheck();
    const count = (metric: Pair['metric']): Measurement => ({
      figure: ps.filter((p) => p.metric === metric && resolved(p)).length,
      detail: `of ${ps.filter((p) => p.metric === metric).length}`,
    });
    const judged = judge(TARGETS, {
      throughput: count('throughput'),
      cpu: count('cpuPerGbit'),
      vm:
        typeof vm === 'string'
          ? { figure: undefined, detail: vm }
          : { figure: vm.checks.filter((c) => c.carried).length, detail: `guest kernel ${vm.kernel}` },
    });
    if (!opts.json) {
      process.stdout.write(textLines(res, ps, profiles, vm, judged).join('\n') + '\n');
      return;
    }
    const rows = res.rows.map((r) => ({
      arch: r.arch,
      path: r.path,
      test: r.test,
      gbps: r.metrics[r.primary]!.median,
      coreSecPerGbit: r.coreSecondsPerGbit,
    }));
    const settings = { rounds: opts.rounds, durationSec: opts.duration, kernel: res.environment.kernel };
    const body = { targets: judged, pairs: ps, rows, profile: profiles, vm, noise: res.noise, settings };
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:newer-kernels: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = abort.signal.aborted ? 130 : 1;
});
