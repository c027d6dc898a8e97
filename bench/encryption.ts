/**
 * Benchmark: what encryption costs (issue 34), in one interleaved run — host; flannel-host-gw and
 * flannel-wireguard; calico-bgp and calico-wireguard; flannel-udp, the user-space tunnel that
 * wireguard-go is built like; flannel-ipsec where the kernel has ESP (elsewhere skipped, saying why)
 * — inter-node, TCP with 1 and 4 streams, latency, host CPU per Gbit (usr/sys/softirq), at underlay
 * MTU 1500 and 9000, adaptive rounds within a budget; every encrypted lab proven on the wire before
 * its rows count; the mtu test in every lab. Then, in a fresh lab of each architecture, a black hole
 * planted: the switch's port toward the server's node narrowed to 1400 bytes (a path narrower than
 * the pods believe; a bridge drops a larger frame and answers nothing) — the mtu probe must find it
 * silent, at 1400 less the design's bytes on the wire. Targets: bench/encryption-targets.ts.
 *
 *   npm run bench:encryption -- [--budget S] [--duration S] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../src/arch';
import { table } from '../src/cli/output';
import { missingReason, probeFeatures } from '../src/doctor/features';
import { ip } from '../src/lib/netns';
import { down, up } from '../src/lab/lab';
import { switchNetns } from '../src/lab/names';
import { noiseLine } from '../src/report/claims-text';
import { measureOne } from '../src/run/mtu/measure';
import { planMtu } from '../src/run/mtu/plan';
import type { RunResults } from '../src/run/results-schema';
import { runBenchmark } from '../src/run/run';
import { parseTopology } from '../src/topology/load';
import { benchArgs, seconds } from './args';
import { BENCH_RUN, benchProgress } from './common';
import { ENCRYPTION_TARGETS, encryptionFigures, type PlantedHole } from './encryption-targets';
import { judge, targetLines } from './targets';

const ARCHS = [
  'host',
  'flannel-host-gw',
  'flannel-wireguard',
  'calico-bgp',
  'calico-wireguard',
  'flannel-udp',
  'flannel-ipsec',
];
/** The narrowed path, and each design's bytes on the wire around a pod's IPv4 packet (ESP: at most). */
const NARROWED = 1400;
const WIRE_BYTES: Record<string, (narrowed: number) => number> = {
  'flannel-host-gw': (n) => n,
  'calico-bgp': (n) => n,
  'flannel-udp': (n) => n - 28, // outer IPv4 20 + UDP 8
  // outer IPv4 20 + UDP 8 + WireGuard 32 around the packet padded to 16 bytes (WireGuard pads what it encrypts)
  'flannel-wireguard': (n) => Math.floor((n - 60) / 16) * 16,
  'calico-wireguard': (n) => Math.floor((n - 60) / 16) * 16,
  // outer IPv4 20 + ESP 8 + IV 8 + ICV 16 around the packet and its trailer 2, padded to 4 bytes
  'flannel-ipsec': (n) => Math.floor((n - 52) / 4) * 4 - 2,
};

const opts = benchArgs('npm run bench:encryption -- [--budget S] [--duration S] [--json]', {
  budget: seconds(600),
  duration: seconds(2),
});

const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
const say = (s: string): void => void (opts.json || process.stderr.write(`${s}\n`));

/** A lab of `arch`, its path toward node2 narrowed on the switch, probed by the mtu test's own measurement. */
async function plantHole(arch: string): Promise<PlantedHole> {
  const lab = `bench-hole-${arch.replace(/^flannel-/, 'f').replace(/^calico-/, 'c')}`.slice(0, 20);
  const a = architectures.get(arch);
  const topology = parseTopology('topology: {computeNodes: 2, defaults: {pods: 1}}', 'bench', { name: lab });
  const state = await up({ topology, arch, signal: abort.signal });
  try {
    const { cells } = planMtu({ topology, archs: [a], features: await probeFeatures() });
    const cell = { ...cells[0]!, lab };
    const server = state.pods.find((p) => p.name === cell.server)!;
    await ip({ name: switchNetns(lab) }, ['link', 'set', 'dev', server.node, 'mtu', String(NARROWED)]);
    const f = await measureOne({ cell, state });
    return {
      arch,
      narrowed: NARROWED,
      expected: WIRE_BYTES[arch]!(NARROWED),
      largestPacket: f.largestPacket,
      mode: f.above.mode ?? 'none',
    };
  } finally {
    await down(lab);
  }
}

async function main(): Promise<void> {
  const features = await probeFeatures();
  const archs = ARCHS.map((n) => architectures.get(n));
  const out = mkdtempSync(join(tmpdir(), 'cnilab-bench-encryption-'));
  try {
    const res = await runBenchmark({
      ...BENCH_RUN,
      streams: 4,
      topology: parseTopology('', 'default', { name: 'bench-enc' }),
      underlayMtus: [1500, 9000],
      archs,
      paths: ['inter-node'],
      tests: ['tcp', 'tcp-parallel', 'latency'],
      afterRounds: new Map([['mtu', {}]]),
      durationSec: opts.duration,
      rounds: { min: 3, precisionPct: 5, budgetSec: opts.budget },
      seed: 34,
      outDir: out,
      signal: abort.signal,
      onProgress: benchProgress(opts.json),
    });
    const holes: PlantedHole[] = [];
    for (const a of archs.filter((x) => WIRE_BYTES[x.name] && !missingReason(features, x.requires))) {
      say(`planting a black hole in a ${a.name} lab`);
      holes.push(await plantHole(a.name));
    }
    const twins = archs.flatMap((a) => (a.encryption ? [{ arch: a.name, twin: a.encryption.twin }] : []));
    const targets = judge(ENCRYPTION_TARGETS, encryptionFigures(res, holes, twins));
    if (opts.json) {
      const body = {
        targets,
        designs: res.claims.designs,
        proofs: res.proofs,
        mtu: res.afterRounds?.['mtu'],
        holes,
        rows: res.rows.map((r) => ({
          arch: r.arch,
          test: r.test,
          underlayMtu: r.underlayMtu,
          median: r.metrics[r.primary]!.median,
          unit: r.primary,
          ofHostPct: r.baselinePct,
          coreSecondsPerGbit: r.coreSecondsPerGbit,
        })),
        skipped: res.skipped,
        noise: res.noise,
        settings: { ...opts, kernel: res.environment.kernel, cpu: res.environment.cpuModel },
      };
      process.stdout.write(JSON.stringify(body, null, 2) + '\n');
      return;
    }
    print(res, holes, targets);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function print(res: RunResults, holes: readonly PlantedHole[], targets: ReturnType<typeof judge>): void {
  const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
  const lines = [
    `What encryption costs: ${res.schedule.rounds} interleaved rounds (budget ${opts.budget} s), ` +
      `${opts.duration} s per TCP sample, inter-node; kernel ${res.environment.kernel}`,
    noiseLine(res),
    ...res.architectures.filter((a) => a.datapath && a.datapath !== 'kernel').map((a) => `  ${a.name}: ${a.datapath}`),
    ...(res.skipped ?? []).map((s) => `  skipped ${s.arch}: ${s.reason}`),
    '',
    table(
      ['ARCH', 'MTU', 'TEST', 'MEDIAN', 'OF HOST', 'CORE-S/GBIT (USR/SYS/SOFTIRQ)'],
      res.rows.map((r) => [
        r.arch,
        String(r.underlayMtu ?? ''),
        r.test === 'tcp-parallel' ? 'tcp ×4' : r.test,
        r.test === 'latency'
          ? `${r.metrics.rttP50Us!.median.toFixed(0)} µs`
          : `${r.metrics.gbps!.median.toFixed(2)} Gbit/s`,
        r.baselinePct === null ? '—' : `${r.baselinePct.toFixed(0)}%`,
        r.coreSecondsPerGbit ? cpuText(r.coreSecondsPerGbit) : '—',
      ]),
      [3, 4],
    ),
    '',
    'Against the unencrypted twin and the other tunnels (same-round ratios, 95% intervals):',
    ...(res.claims.designs ?? [])
      .filter((d) => archIsEncrypted(d.a))
      .map(
        (d) =>
          `  ${d.a}/${d.b}${d.underlayMtu ? ` mtu ${d.underlayMtu}` : ''}: ` +
          d.metrics
            .map((m) =>
              m.ratio
                ? `${m.metric} ${pct(m.ratio.geomean)} (${pct(m.ratio.ci95.low)}–${pct(m.ratio.ci95.high)}) ${m.verdict}`
                : `${m.metric} not measured`,
            )
            .join('; '),
      ),
    '',
    `Planted black holes (the switch's port toward the server's node at ${NARROWED} bytes):`,
    ...holes.map((h) => `  ${h.arch}: largest packet ${h.largestPacket} (expected ${h.expected}), above it ${h.mode}`),
    '',
    ...targetLines(targets),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

const archIsEncrypted = (name: string): boolean => architectures.has(name) && !!architectures.get(name).encryption;

function cpuText(c: NonNullable<RunResults['rows'][number]['coreSecondsPerGbit']>): string {
  return `${c.total.toFixed(2)} (${c.user.toFixed(2)}/${c.system.toFixed(2)}/${c.softirq.toFixed(2)})`;
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench/encryption: ${abort.signal.aborted ? 'interrupted' : e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exitCode = abort.signal.aborted ? 130 : 1;
});
