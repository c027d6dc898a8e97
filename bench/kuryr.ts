/**
 * Benchmark: the Kuryr architectures.
 *
 * 1. Pod network set-up latency, per mechanism driver (and flannel-vxlan beside them, for scale):
 *    on a lab of two compute nodes, N pods are attached one after another on node1; for each, the
 *    time of its CNI ADD, and of ADD until its first ping to a pod on node2 is answered ("until
 *    traffic flows"); then each pod's DEL. p50 and p99 of each.
 * 2. Throughput, as the paper's Fig. 4 and Fig. 5: TCP on the inter-node and routed paths of every
 *    Kuryr architecture beside host, flannel-vxlan and macvlan, measured in the same run.
 *
 *   npm run bench:kuryr -- [--pods N] [--repeats N] [--duration S] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../src/arch';
import { probeFeatures, missingReason } from '../src/doctor/features';
import { run } from '../src/lib/exec';
import { down, up } from '../src/lab/lab';
import { podNetns } from '../src/lab/names';
import { conflistFile, runtimeFor } from '../src/lab/pods';
import { loadConfList } from '../src/cni/runtime';
import { runBenchmark } from '../src/run/run';
import { parseTopology } from '../src/topology/load';
import { percentile } from '../src/run/stats';
import { benchArgs, count, seconds } from './args';
import { BENCH_RUN, benchProgress } from './common';

const opts = benchArgs('npm run bench:kuryr -- [--pods N] [--repeats N] [--duration S] [--json]', {
  pods: count(50),
  repeats: count(3),
  duration: seconds(3),
});
const SETUP_ARCHS = ['kuryr-ovs-vxlan', 'kuryr-lb-vxlan', 'flannel-vxlan'];
const THROUGHPUT_ARCHS = [
  'host',
  'flannel-vxlan',
  'flannel-udp',
  'macvlan',
  'kuryr-ovs-vxlan',
  'kuryr-ovs-vlan',
  'kuryr-lb-vxlan',
  'kuryr-lb-vlan',
];

interface SetupRow {
  arch: string;
  driver: string;
  pods: number;
  addMs: { p50: number; p99: number };
  addToTrafficMs: { p50: number; p99: number };
  delMs: { p50: number; p99: number };
}

async function setupLatency(arch: string, pods: number): Promise<SetupRow> {
  const lab = `bench-ky-${arch.replace(/^kuryr-/, '')}`.slice(0, 32);
  const topology = parseTopology(
    'topology: {nodes: {control: {role: control}, node1: {role: compute, pods: 0}, node2: {role: compute, pods: 1}}}',
    'bench',
    { name: lab },
  );
  const state = await up({ topology, arch });
  try {
    const target = state.pods[0]!;
    const list = loadConfList(conflistFile(lab, 'node1'));
    const rt = runtimeFor(lab, 'node1');
    const add: number[] = [];
    const flow: number[] = [];
    const del: number[] = [];
    const names = Array.from({ length: pods }, (_, i) => `b${i}`);
    await run('ip', ['-batch', '-'], { input: names.map((n) => `netns add ${podNetns(lab, n)}`).join('\n') + '\n' });
    for (const [i, n] of names.entries()) {
      const ns = podNetns(lab, n);
      const t0 = performance.now();
      await rt.addNetworkList(list, { containerId: `${lab}-${n}`, netns: `/run/netns/${ns}`, ifName: 'eth0' });
      const t1 = performance.now();
      // Pings every 10 ms until the first answer (-c 1 with a deadline waits for one reply).
      await run('ip', ['netns', 'exec', ns, 'ping', '-n', '-q', '-c', '1', '-i', '0.01', '-w', '10', target.ip]);
      const t2 = performance.now();
      add.push(t1 - t0);
      flow.push(t2 - t0);
      if (!opts.json && (i + 1) % 10 === 0) process.stderr.write(`${arch}: ${i + 1}/${pods} pods\n`);
    }
    for (const n of names) {
      const t0 = performance.now();
      await rt.delNetworkList(list, {
        containerId: `${lab}-${n}`,
        netns: `/run/netns/${podNetns(lab, n)}`,
        ifName: 'eth0',
      });
      del.push(performance.now() - t0);
    }
    const r = (xs: number[]) => ({ p50: Math.round(percentile(xs, 50)), p99: Math.round(percentile(xs, 99)) });
    // The architecture's name says its mechanism driver (kuryr-ovs-*, kuryr-lb-*).
    const driver = arch.startsWith('kuryr-ovs')
      ? 'openvswitch'
      : arch.startsWith('kuryr-lb')
        ? 'linuxbridge'
        : 'bridge (flannel)';
    return { arch, driver, pods, addMs: r(add), addToTrafficMs: r(flow), delMs: r(del) };
  } finally {
    await down(lab);
  }
}

// eslint-disable-next-line max-lines-per-function -- a benchmark's procedure, measured and printed in the order it runs
async function main(): Promise<void> {
  const { pods, repeats, duration: durationSec } = opts;
  const features = await probeFeatures();
  const skipped: string[] = [];
  const setup: SetupRow[] = [];
  for (const a of SETUP_ARCHS) {
    const why = missingReason(features, architectures.get(a).requires);
    if (why) skipped.push(`${a}: ${why}`);
    else setup.push(await setupLatency(a, pods));
  }

  const out = mkdtempSync(join(tmpdir(), 'cnilab-bench-kuryr-'));
  try {
    const archs = THROUGHPUT_ARCHS.map((n) => architectures.get(n));
    const results = await runBenchmark({
      ...BENCH_RUN,
      topology: parseTopology('', 'default', { name: 'bench-kuryr-run' }),
      archs,
      paths: ['inter-node', 'routed'],
      tests: ['tcp'],
      durationSec,
      rounds: { fixed: repeats },
      seed: 1,
      outDir: out,
      onProgress: benchProgress(opts.json),
    });
    const datapath = new Map(results.architectures.map((a) => [a.name, a.datapath ?? '?']));
    const rows = results.rows.map((r) => ({
      arch: r.arch,
      family: results.architectures.find((a) => a.name === r.arch)?.family,
      datapath: datapath.get(r.arch),
      path: r.path,
      gbps: r.metrics.gbps?.median,
      ciGbps: r.metrics.gbps ? [r.metrics.gbps.ci95.low, r.metrics.gbps.ci95.high] : undefined,
      ofHostPct: r.baselinePct,
      coreSecPerGbit: r.coreSecondsPerGbit
        ? r.coreSecondsPerGbit.user + r.coreSecondsPerGbit.system + r.coreSecondsPerGbit.softirq
        : undefined,
    }));
    for (const s of results.skipped) skipped.push(`${s.arch}${s.path ? ` ${s.path}` : ''}: ${s.reason}`);
    if (opts.json) {
      console.log(
        JSON.stringify({ setup, throughput: rows, skipped, settings: { pods, repeats, durationSec } }, null, 2),
      );
      return;
    }
    console.log(`\nPod network set-up, ${pods} pods one after another on node1 (ms):`);
    console.log('ARCH              DRIVER             ADD p50/p99   ADD→TRAFFIC p50/p99   DEL p50/p99');
    for (const s of setup) {
      console.log(
        `${s.arch.padEnd(17)} ${s.driver.padEnd(18)} ${`${s.addMs.p50}/${s.addMs.p99}`.padStart(11)}  ` +
          ` ${`${s.addToTrafficMs.p50}/${s.addToTrafficMs.p99}`.padStart(19)} ` +
          `  ${`${s.delMs.p50}/${s.delMs.p99}`.padStart(11)}`,
      );
    }
    console.log(
      `\nThroughput, TCP, ${repeats} × ${durationSec} s per row (Fig. 4: overlays; Fig. 5: native beside them):`,
    );
    console.log(
      'ARCH              FAMILY    DATAPATH                             PATH         GBIT/S (95% CI)       OF ' +
        'HOST   CORE-S/GBIT',
    );
    for (const r of rows) {
      const ci = r.ciGbps ? `(${r.ciGbps[0]!.toFixed(2)}–${r.ciGbps[1]!.toFixed(2)})` : '';
      console.log(
        `${r.arch.padEnd(17)} ${String(r.family).padEnd(9)} ${String(r.datapath).padEnd(36)} ` +
          `${r.path.padEnd(12)} ${`${r.gbps?.toFixed(2)} ${ci}`.padEnd(21)} ` +
          `${r.ofHostPct === null ? '—' : `${r.ofHostPct}%`.padStart(7)} ` +
          `  ${r.coreSecPerGbit?.toFixed(3) ?? '—'}`,
      );
    }
    const by = (a: string, p: string) => rows.find((r) => r.arch === a && r.path === p)?.gbps;
    const ratio = (a: string, b: string, p = 'inter-node') => {
      const x = by(a, p);
      const y = by(b, p);
      return x && y ? `${(x / y).toFixed(2)}×` : 'n/a';
    };
    console.log('\nRatios (inter-node):');
    console.log(
      `  kuryr-ovs-vxlan / flannel-udp    ${ratio('kuryr-ovs-vxlan', 'flannel-udp')}   ` +
        `(the paper: the OVS overlay beats flannel's user-space udp)`,
    );
    console.log(
      `  kuryr-ovs-vxlan / flannel-vxlan  ${ratio('kuryr-ovs-vxlan', 'flannel-vxlan')}   ` +
        `(OVS' userspace datapath against the kernel's VXLAN)`,
    );
    console.log(
      `  kuryr-ovs-vlan / kuryr-ovs-vxlan ${ratio('kuryr-ovs-vlan', 'kuryr-ovs-vxlan')}   ` +
        `(the paper: native VLAN beats the overlay)`,
    );
    console.log(`  kuryr-lb-vxlan / flannel-vxlan   ${ratio('kuryr-lb-vxlan', 'flannel-vxlan')}`);
    console.log(`  macvlan / kuryr-lb-vxlan         ${ratio('macvlan', 'kuryr-lb-vxlan')}`);
    const routedOverInter = (arch: string): string =>
      ((by(arch, 'routed') ?? NaN) / (by(arch, 'inter-node') ?? NaN)).toFixed(2);
    console.log(
      `  routed / inter-node, ovs-vxlan   ${routedOverInter('kuryr-ovs-vxlan')}×; ` +
        `lb-vxlan ${routedOverInter('kuryr-lb-vxlan')}×`,
    );
    if (skipped.length) console.log(`\nskipped:\n${skipped.map((s) => `  ${s}`).join('\n')}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(`bench/kuryr: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
