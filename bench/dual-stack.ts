/**
 * Benchmark: what IPv6 costs (issue 35), in one interleaved run of both families — host,
 * flannel-host-gw, flannel-vxlan, macvlan, calico-bgp and ebpf-native, each in single-stack labs of
 * IPv4 and of IPv6 (`--ip-family 4,6`), intra- and inter-node, TCP with 1 stream, UDP at 1 Gbit/s
 * and rtt (iperf2's TCP round trips, one tool in both families), adaptive rounds within a budget —
 * every IPv6 row against its IPv4 twin (same round, 95% moderated interval); and the attach test in
 * every lab of the run (duplicate address detection as the reference leaves it: off on bridge's
 * pods, on on macvlan's; Calico's and the ebpf plugin add theirs without), then again in IPv6 labs
 * of the bridge-based flannel-host-gw with DAD on (`ipv6Dad: true`: bridge's `enabledad`), p50 and
 * p99 of ADD side by side. Targets: below.
 *
 *   npm run bench:dual-stack -- [--budget S] [--duration S] [--samples N] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../src/arch';
import { table } from '../src/cli/output';
import { noiseLine } from '../src/report/claims-text';
import type { AttachJson } from '../src/run/attach/schema';
import { METRIC_INFO, type RunResults } from '../src/run/results-schema';
import { runBenchmark } from '../src/run/run';
import { parseTopology } from '../src/topology/load';
import { benchArgs, count, seconds } from './args';
import { BENCH_RUN, benchProgress } from './common';
import { judge, targetLines, type Measurement, type Target } from './targets';

/** One of each kind that gives pods IPv6 on this host (ipvlan's module is missing here: the kernel tier runs it). */
const ARCHS = ['host', 'flannel-host-gw', 'flannel-vxlan', 'macvlan', 'calico-bgp', 'ebpf-native'].filter((n) =>
  architectures.get(n).control.ipFamilies?.includes(6),
);
/** The bridge-based architecture whose pods' DAD is a choice (bridge's enabledad). */
const DAD_ARCH = 'flannel-host-gw';
/** The lab size each attach probe goes into. */
const ATTACH_SIZE = 10;

const opts = benchArgs('npm run bench:dual-stack -- [--budget S] [--duration S] [--samples N] [--json]', {
  budget: seconds(480),
  duration: seconds(1),
  samples: count(20),
});

const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
const say = (s: string): void => void (opts.json || process.stderr.write(`${s}\n`));

const TARGETS: readonly Target[] = [
  {
    name: 'architectures with IPv6 measured against their IPv4 twin (tcp inter-node, with an interval)',
    figure: 'twins',
    direction: 'at least',
    threshold: ARCHS.length,
    unit: '',
    why: 'issue 35: IPv6 % of its IPv4 twin per architecture, with intervals',
  },
  {
    name: 'IPv6 rows whose connections were of the other family',
    figure: 'fallbacks',
    direction: 'at most',
    threshold: 0,
    unit: '',
    why: 'a silent fallback to IPv4 (benchmark-operator#814) must fail, not be measured',
  },
  {
    name: `ADD p50 with DAD on over DAD off (${DAD_ARCH}, IPv6)`,
    figure: 'dadSlowdown',
    direction: 'at least',
    threshold: 1.5,
    unit: '×',
    why: "DAD holds a new address tentative for the kernel's 1 s (one probe, RetransTimer) before ADD returns",
  },
];

type AttachArch = AttachJson['archs'][number];

async function run(
  name: string,
  topologyYaml: string,
  archs: readonly string[],
  dimension: boolean,
): Promise<RunResults> {
  const out = mkdtempSync(join(tmpdir(), `cnilab-bench-${name}-`));
  try {
    return await runBenchmark({
      ...BENCH_RUN,
      topology: parseTopology(topologyYaml, 'bench', { name: `bench-${name}` }),
      ...(dimension ? { ipFamilies: [4, 6] as const } : {}),
      archs: archs.map((n) => architectures.get(n)),
      paths: ['intra-node', 'inter-node'],
      // rtt: round trips in both families with one tool (latency's sockperf is IPv4 only)
      tests: dimension ? ['tcp', 'udp', 'rtt'] : [],
      afterRounds: new Map([['attach', { samples: opts.samples, sizes: [ATTACH_SIZE] }]]),
      durationSec: opts.duration,
      rounds: { min: 3, precisionPct: 5, budgetSec: opts.budget },
      seed: 35,
      outDir: out,
      signal: abort.signal,
      onProgress: benchProgress(opts.json),
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const attachOf = (r: RunResults): AttachArch[] => (r.afterRounds?.['attach'] as AttachJson | undefined)?.archs ?? [];

async function main(): Promise<void> {
  const both = await run('ds', '', ARCHS, true);
  say(`attach with DAD on: ${DAD_ARCH} in IPv6`);
  const dad = await run('dad', 'topology:\n  ipFamilies: [ipv6]\n  ipv6Dad: true\n', [DAD_ARCH], false);
  const twins = (both.claims.families ?? []).filter((f) => f.path === 'inter-node' && f.test === 'tcp');
  const off = attachOf(both).find((a) => a.arch === DAD_ARCH && a.ipFamily === 6)?.sizes[0];
  const on = attachOf(dad).find((a) => a.arch === DAD_ARCH)?.sizes[0];
  const figures: Record<string, Measurement> = {
    twins: { figure: twins.length, detail: twins.map((t) => t.arch).join(', ') },
    fallbacks: both.skipped.filter((s) => s.failed && /ran over IPv/.test(s.reason)).length,
    dadSlowdown:
      on && off
        ? { figure: on.add.p50 / off.add.p50, detail: `${on.add.p50} ms on, ${off.add.p50} ms off` }
        : undefined,
  };
  const targets = judge(TARGETS, figures);
  if (opts.json) {
    const body = {
      targets,
      families: both.claims.families,
      attach: { dimension: attachOf(both), dadOn: attachOf(dad) },
      rows: both.rows.map((r) => ({
        arch: r.arch,
        path: r.path,
        test: r.test,
        ipFamily: r.ipFamily,
        median: r.metrics[r.primary]!.median,
        unit: r.primary,
        ofHostPct: r.baselinePct,
      })),
      skipped: both.skipped,
      noise: both.noise,
      settings: { ...opts, kernel: both.environment.kernel, cpu: both.environment.cpuModel },
    };
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return;
  }
  print(both, attachOf(both), attachOf(dad), targets);
}

function print(
  res: RunResults,
  attach: readonly AttachArch[],
  dadOn: readonly AttachArch[],
  targets: ReturnType<typeof judge>,
): void {
  const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
  const addRow = (a: AttachArch, dad: string): string[] => {
    const s = a.sizes[0]!;
    return [a.arch, `IPv${a.ipFamily ?? 6}`, dad, `${s.add.p50}`, `${s.add.p99}`, `${s.firstPacket.p50}`];
  };
  const dadOf = (a: AttachArch): string => (a.ipFamily === 4 ? '—' : a.arch === 'macvlan' ? 'on' : 'off');
  const lines = [
    `What IPv6 costs: ${res.schedule.rounds} interleaved rounds (budget ${opts.budget} s), ${opts.duration} s per ` +
      `sample; kernel ${res.environment.kernel}`,
    noiseLine(res),
    ...res.skipped.map(
      (s) => `  skipped ${s.arch}${s.test ? ` ${s.test}` : ''}${s.ipFamily ? ` IPv${s.ipFamily}` : ''}: ${s.reason}`,
    ),
    '',
    table(
      ['ARCH', 'PATH', 'TEST', 'FAMILY', 'MEDIAN', 'OF HOST'],
      res.rows.map((r) => [
        r.arch,
        r.path,
        r.test,
        `IPv${r.ipFamily}`,
        `${r.metrics[r.primary]!.median.toFixed(2)} ${METRIC_INFO[r.primary].unit}`,
        r.baselinePct === null ? '—' : `${r.baselinePct.toFixed(0)}%`,
      ]),
      [4, 5],
    ),
    '',
    'IPv6 against its IPv4 twin (same-round ratio v6/v4, 95% moderated interval):',
    ...(res.claims.families ?? []).map(
      (f) =>
        `  ${f.arch} ${f.path} ${f.test}: ${pct(f.ratio.geomean)} (${pct(f.ratio.ci95.low)}–` +
        `${pct(f.ratio.ci95.high)}) ${f.verdict}`,
    ),
    '',
    `Attach (CNI ADD into a lab of ${ATTACH_SIZE} pods, ${opts.samples} probes each; ms):`,
    table(
      ['ARCH', 'FAMILY', 'DAD', 'ADD P50', 'ADD P99', 'FIRST PACKET P50'],
      [...attach.map((a) => addRow(a, dadOf(a))), ...dadOn.map((a) => addRow(a, 'on (ipv6Dad)'))],
      [3, 4, 5],
    ),
    '',
    ...targetLines(targets),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench/dual-stack: ${abort.signal.aborted ? 'interrupted' : e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exitCode = abort.signal.aborted ? 130 : 1;
});
