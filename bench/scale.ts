/**
 * Benchmark: a large lab. For each architecture (default flannel-vxlan), N compute nodes × P pods
 * (default 20 × 50 = 1,000): time until `up` returns with every pod attached and every agent
 * synced, time until 100 sampled pod pairs on different nodes answer a ping, the lab's memory,
 * `cnilab status` (the command, timed) and `down`. Then ADD latency into labs of 10, 100 and N×P
 * pods: single ADDs one at a time (none in flight), each followed by its DEL. Targets: reachable
 * ≤ 30 s, ADD p99 at N×P ≤ 2× at 10, status ≤ 1 s.
 *
 *   npm run bench:scale -- [--nodes 20] [--pods 50] [--arch flannel-vxlan,kuryr-lb-vxlan]
 *                          [--samples 30] [--pairs 100] [--json]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../src/lib/exec';
import { REPO_ROOT } from '../src/lib/paths';
import { deleteNetns, netnsPath } from '../src/lib/netns';
import { POD_IF } from '../src/arch/architecture';
import { down, up } from '../src/lab/lab';
import { attachPods, conflistFile, runtimeFor } from '../src/lab/pods';
import { samplePairs, untilReachable } from '../src/lab/reach';
import type { LabState } from '../src/lab/state';
import { parseTopology } from '../src/topology/load';
import { probeFeatures, type FeatureReport } from '../src/doctor/features';
import type { NetConfList } from '../src/cni/types';
import { percentile } from '../src/run/stats';
import { benchArgs, count, str } from './args';
import { judge, targetLines, type Target } from './targets';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const opts = benchArgs(
  'npm run bench:scale -- [--nodes N] [--pods N] [--samples N] [--pairs N] [--arch a,b] [--json]',
  { nodes: count(20), pods: count(50), samples: count(30), pairs: count(100), arch: str('flannel-vxlan') },
);
/** The targets, for each architecture measured. */
const TARGETS: readonly Target[] = [
  {
    name: 'every pod reachable (sampled pairs answer ping)',
    figure: 'reachableSec',
    direction: 'at most',
    threshold: 30,
    unit: 's',
    why: 'the scale target: a lab of 1,000 pods answers within 30 s of up (docs/scale.md)',
  },
  {
    name: 'ADD p99 into the full lab / into a lab of 10',
    figure: 'addP99Ratio',
    direction: 'at most',
    threshold: 2,
    unit: '×',
    why: 'the scale target: ADD does not grow with the pods the lab holds (docs/scale.md)',
  },
  {
    name: 'cnilab status of the full lab',
    figure: 'statusSec',
    direction: 'at most',
    threshold: 1,
    unit: 's',
    why: 'the scale target: status of a 1,000-pod lab within a second (docs/scale.md)',
  },
];

const say = (s: string): void => void (opts.json || process.stderr.write(`${s}\n`));

/**
 * A topology of `nodes` × `pods` with room for the pods of every architecture (Kuryr's net-a spans all but one node).
 */
function topology(lab: string, nodes: number, pods: number) {
  const yaml =
    `topology: {computeNodes: ${nodes}, defaults: {pods: ${pods}}, podCidr: 10.224.0.0/12, ` + `subnetLength: 20}`;
  return parseTopology(yaml, 'bench', { name: lab });
}

const memAvailable = (): number =>
  Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;

/** Proportional set size of each process (bytes), from smaps_rollup. */
function pss(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}
function rss(pid: number): number {
  try {
    return Number(/^Rss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** `samples` single ADDs into the running lab, one at a time, each on the next node, each DEL'd after. */
async function addLatency(state: LabState, samples: number): Promise<{ add: number[]; del: number[] }> {
  const nodes = state.topology.nodes.filter((n) => n.role === 'compute').map((n) => n.name);
  const add: number[] = [];
  const del: number[] = [];
  for (let i = 0; i < samples; i++) {
    const node = nodes[i % nodes.length]!;
    const list = JSON.parse(readFileSync(conflistFile(state.lab, node), 'utf8')) as NetConfList;
    const [pod] = await attachPods(state.lab, [{ name: `${node}-x${i}`, node }], list);
    add.push(pod!.addMs!);
    const t0 = performance.now();
    await runtimeFor(state.lab, node).delNetworkList(list, {
      containerId: pod!.containerId,
      netns: netnsPath({ name: pod!.netns }),
      ifName: POD_IF,
    });
    del.push(performance.now() - t0);
    await deleteNetns(pod!.netns);
  }
  return { add, del };
}

const lat = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), n: xs.length });

interface SizeResult {
  pods: number;
  nodes: number;
  upSec: number;
  add: ReturnType<typeof lat>;
  del: ReturnType<typeof lat>;
}

/** Ctrl-C: the lab being measured goes down first (up() itself tears down what it was building). */
let current: string | undefined;
process.once('SIGINT', () => {
  void (current ? down(current) : Promise.resolve()).finally(() => process.exit(130));
});

/** A lab of `nodes` × `pods`, up, `samples` ADDs, down. */
async function sizeRound(arch: string, nodes: number, pods: number, samples: number, features: FeatureReport) {
  const lab = (current = `sc-bench-${nodes}x${pods}`);
  const t0 = performance.now();
  const state = await up({ topology: topology(lab, nodes, pods), arch, features });
  const upSec = (performance.now() - t0) / 1000;
  try {
    const { add, del } = await addLatency(state, samples);
    return { pods: nodes * pods, nodes, upSec, add: lat(add), del: lat(del) } satisfies SizeResult;
  } finally {
    await down(lab);
  }
}

/** The full lab: up, reachability, memory, status, the ADD samples, down. */
async function fullRound(arch: string, nodes: number, pods: number, o: { pairs: number; samples: number }) {
  const lab = (current = `sc-bench-${nodes}x${pods}`);
  const features = await probeFeatures();
  const memBefore = memAvailable();
  const t0 = performance.now();
  let state: LabState;
  try {
    state = await up({ topology: topology(lab, nodes, pods), arch, features });
    const attachedSec = (performance.now() - t0) / 1000;
    say(`  ${nodes * pods} pods attached in ${attachedSec.toFixed(1)} s; pinging ${o.pairs} pairs`);
    await untilReachable(samplePairs(state.pods, o.pairs, 18), { timeoutMs: 60_000 });
    const reachableSec = (performance.now() - t0) / 1000;
    const memAfter = memAvailable();
    const procs = state.processes.map((p) => p.pid);
    const processesPss = procs.reduce((a, p) => a + pss(p), 0);
    const processesRss = procs.reduce((a, p) => a + rss(p), 0);
    const s0 = performance.now();
    await run(process.execPath, [CLI, 'status', '--lab', lab, '--json']);
    const statusSec = (performance.now() - s0) / 1000;
    const upAdd = state.pods.map((p) => p.addMs ?? 0);
    const { add, del } = await addLatency(state, o.samples);
    const d0 = performance.now();
    await down(lab);
    const downSec = (performance.now() - d0) / 1000;
    const used = memBefore - memAfter;
    return {
      nodes,
      pods: nodes * pods,
      attachedSec,
      reachableSec,
      statusSec,
      downSec,
      memory: {
        labBytes: used,
        processesPssBytes: processesPss,
        processesRssBytes: processesRss,
        processes: procs.length,
        perNodeProcessPssBytes: processesPss / procs.length,
        perPodKernelBytes: (used - processesPss) / (nodes * pods),
      },
      addDuringUp: lat(upAdd),
      add: lat(add),
      del: lat(del),
    };
  } catch (e) {
    await down(lab);
    throw e;
  }
}

async function main(): Promise<void> {
  const { nodes, pods, samples, pairs } = opts;
  const archs = opts.arch.split(',');
  const features = await probeFeatures();
  const out = [];
  for (const arch of archs) {
    say(`${arch}: ${nodes} nodes × ${pods} pods`);
    const full = await fullRound(arch, nodes, pods, { pairs, samples });
    say(`  reachable in ${full.reachableSec.toFixed(1)} s; down ${full.downSec.toFixed(2)} s`);
    const small = await sizeRound(arch, 10, 1, samples, features);
    say(`  lab of 10: ADD p99 ${small.add.p99.toFixed(0)} ms`);
    const mid = await sizeRound(arch, Math.min(nodes, 20), Math.ceil(100 / Math.min(nodes, 20)), samples, features);
    say(`  lab of ${mid.pods}: ADD p99 ${mid.add.p99.toFixed(0)} ms`);
    const addRatio = full.add.p99 / small.add.p99;
    out.push({
      arch,
      full,
      sizes: [
        { pods: small.pods, add: small.add, del: small.del, upSec: small.upSec },
        { pods: mid.pods, add: mid.add, del: mid.del, upSec: mid.upSec },
        { pods: full.pods, add: full.add, del: full.del, upSec: full.attachedSec },
      ],
      targets: judge(TARGETS, { reachableSec: full.reachableSec, addP99Ratio: addRatio, statusSec: full.statusSec }),
    });
  }
  if (opts.json)
    return void process.stdout.write(JSON.stringify({ nodes, pods, samples, pairs, archs: out }, null, 2) + '\n');
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const ms = (x: { p50: number; p99: number }): string => `p50 ${x.p50.toFixed(0)} ms, p99 ${x.p99.toFixed(0)} ms`;
  const lines: string[] = [];
  for (const a of out) {
    const f = a.full;
    lines.push(
      `scale: ${a.arch}, ${f.nodes} compute nodes × ${pods} pods = ${f.pods} pods`,
      `  all pods attached (up returned)   ${f.attachedSec.toFixed(1)} s`,
      `  reachable (${pairs} pairs, ping)      ${f.reachableSec.toFixed(1)} s`,
      `  ADD during up (${f.pods} in a pool)   ${ms(f.addDuringUp)}`,
      ...a.sizes.map(
        (s) =>
          `  ADD into a lab of ${String(s.pods).padEnd(5)}          ` +
          `${ms(s.add)}   DEL ${ms(s.del)}   (${s.add.n} single ADDs)`,
      ),
      `  memory of the lab (MemAvailable)  ${mib(f.memory.labBytes)}: ` +
        `${f.memory.processes} processes ${mib(f.memory.processesPssBytes)} ` +
        `PSS (${mib(f.memory.processesRssBytes)} RSS), per pod ` +
        `${(f.memory.perPodKernelBytes / 1024).toFixed(0)} KiB besides`,
      `  cnilab status                     ${f.statusSec.toFixed(2)} s`,
      `  cnilab down                       ${f.downSec.toFixed(2)} s`,
      ...targetLines(a.targets),
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch(async (e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
