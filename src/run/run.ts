/**
 * `cnilab run`: for each architecture, bring a lab up; for each path, warm it up once, run every
 * selected test N times (iperf3, sockperf) while reading host CPU, the interfaces' counters and any
 * user-space data path; tear the lab down — always, also on error and abort. Returns results that
 * validate against results-v2 and writes them, with the CSV and the report, into the run folder.
 */
import { mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import type { Architecture, PathName } from '../arch/architecture';
import { probeFeatures, type FeatureReport } from '../doctor/features';
import { CnilabError } from '../lib/errors';
import { sleep } from '../lib/exec';
import { up } from '../lab/lab';
import { nodeNetns, podNetns, switchNetns } from '../lab/names';
import { conflistFile } from '../lab/pods';
import type { LabState } from '../lab/state';
import { teardownLab } from '../lab/teardown';
import type { Topology } from '../topology/schema';
import type { CpuSplit } from '../traffic/cpu/proc-stat';
import { startIperf3Server, tcpSample, udpSample, type Iperf3Server } from '../traffic/iperf3/run';
import { latencyRunSec, latencySamples, startSockperfServer, type SockperfServer } from '../traffic/sockperf/run';
import { DatapathMeter } from './datapath';
import { hops, snapshot, type PathStop } from './hops';
import { planCells, type Cell } from './matrix';
import { RESULTS_SCHEMA_VERSION, type MetricName, type PathRecord, type ResultRow, type RunResults, type TestName } from './results-schema';
import { describe, median, round, unstable } from './stats';

/** Payload sizes of the sweep test: small to the largest that fits every pod MTU of the matrix (1450 − 28). */
export const SWEEP_BYTES = [128, 512, 1024, 1400] as const;
const LATENCY_TESTS: readonly TestName[] = ['latency', 'latency-loaded'];

export interface RunOptions {
  readonly topology: Topology;
  readonly archs: readonly Architecture[];
  readonly paths: readonly PathName[];
  readonly tests: readonly TestName[];
  /** Seconds per throughput sample. */
  readonly durationSec: number;
  /** Seconds per latency sample. */
  readonly latencySec: number;
  /** Seconds of one discarded TCP run per path before its tests. */
  readonly warmupSec: number;
  readonly repeats: number;
  /** Streams of tcp-parallel. */
  readonly streams: number;
  readonly udpRateMbps: number;
  readonly covThresholdPct: number;
  /** Pin clients to CPU 0 and servers to CPU 1 (when there are two or more). */
  readonly pin: boolean;
  /** Folder for results.json and the configuration lists; created. */
  readonly outDir: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RunProgress) => void;
  readonly version: string;
}

export interface RunProgress {
  /** What runs now, e.g. "flannel-vxlan inter-node: tcp 2/5". */
  readonly step: string;
  /** Steps (lab set-ups, warm-ups, samples, tear-downs) done and planned. */
  readonly done: number;
  readonly total: number;
  readonly elapsedSec: number;
  /** Estimated seconds left: the plan's, scaled by how the run has kept to it so far. */
  readonly etaSec: number;
}

type Phase = 'setupSec' | 'warmupSec' | 'measureSec' | 'teardownSec';

/** Seconds planned per step, before any is measured: what a lab set-up and a process start cost here. */
const PLAN = { setup: 4, teardown: 0.5, perSample: 0.4, sockperfStart: 2.3 };

export async function runBenchmark(o: RunOptions): Promise<RunResults> {
  const started = new Date();
  const features = await probeFeatures();
  // What every cell needs, checked before any lab is built.
  for (const f of ['root', 'iproute2', 'iperf3'] as const) {
    if (!features[f].ok) throw new CnilabError(f === 'root' ? 'NOT_ROOT' : 'FEATURE_MISSING', features[f].detail);
  }
  const { cells, skipped } = planCells(o.topology, o.archs, o.paths, features);
  let tests = [...o.tests];
  if (!features.sockperf.ok && tests.some((t) => LATENCY_TESTS.includes(t))) {
    for (const t of tests.filter((x) => LATENCY_TESTS.includes(x))) for (const a of new Set(cells.map((c) => c.arch.name))) skipped.push({ arch: a, test: t, reason: `needs sockperf: ${features.sockperf.detail}` });
    tests = tests.filter((t) => !LATENCY_TESTS.includes(t));
  }
  mkdirSync(o.outDir, { recursive: true });
  const byArch = new Map<Architecture, Cell[]>();
  for (const c of cells) byArch.set(c.arch, [...(byArch.get(c.arch) ?? []), c]);

  // The plan, in steps and in seconds, for progress and its ETA.
  // A latency test is one sockperf run (cut into windows); the others, one client run per sample.
  const stepsOf = (t: TestName): number => (LATENCY_TESTS.includes(t) ? 1 : (t === 'sweep' ? SWEEP_BYTES.length : 1) * o.repeats);
  const secondsOf = (t: TestName): number => (LATENCY_TESTS.includes(t) ? latencyRunSec({ windows: o.repeats, windowSec: o.latencySec }) + PLAN.sockperfStart : o.durationSec + PLAN.perSample);
  const samplesPerCell = tests.reduce((n, t) => n + stepsOf(t), 0);
  const cellPlanSec = (o.warmupSec > 0 ? o.warmupSec + PLAN.perSample : 0) + tests.reduce((s, t) => s + stepsOf(t) * secondsOf(t), 0);
  const total = byArch.size * 2 + cells.length * (samplesPerCell + (o.warmupSec > 0 ? 1 : 0));
  const plannedSec = byArch.size * (PLAN.setup + PLAN.teardown) + cells.length * cellPlanSec;
  let done = 0;
  let plannedDone = 0;
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const progress = (step: string): void => {
    const e = elapsed();
    // Once a tenth of the plan is done, scale what is left by how fast the run has kept to it.
    const pace = plannedDone > plannedSec / 10 ? e / plannedDone : 1;
    o.onProgress?.({ step, done, total, elapsedSec: Math.round(e), etaSec: Math.round(Math.max(0, plannedSec - plannedDone) * pace) });
  };
  const timing: Record<Phase, number> = { setupSec: 0, warmupSec: 0, measureSec: 0, teardownSec: 0 };
  const timed = async <T>(phase: Phase, planned: number, body: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    try {
      return await body();
    } finally {
      timing[phase] += (performance.now() - s) / 1000;
      done++;
      plannedDone += planned;
    }
  };

  const affinity = o.pin && cpus().length >= 2 ? { client: 0, server: 1 } : undefined;
  const rows: Omit<ResultRow, 'baselinePct'>[] = [];
  const paths: PathRecord[] = [];
  for (const [arch, archCells] of byArch) {
    progress(`${arch.name}: bringing the lab up`);
    const lab = await timed('setupSec', PLAN.setup, () => up({ topology: o.topology, arch: arch.name, signal: o.signal, features }));
    try {
      if (arch.conflist) copyFileSync(conflistFile(lab.lab, o.topology.nodes.find((n) => n.role === 'compute')!.name), join(o.outDir, `${arch.name}.conflist`));
      for (const cell of archCells) {
        const ctx: CellContext = { o, lab, cell, ...resolveEndpoints(lab, cell), tests, affinity, progress, timed, secondsOf };
        const cellRows = await measureCell(ctx, (p) => paths.push(p));
        rows.push(...cellRows);
      }
    } finally {
      progress(`${arch.name}: tearing the lab down`);
      await timed('teardownSec', PLAN.teardown, () => teardownLab(lab.lab));
    }
  }
  progress('writing results');

  const finished = new Date();
  const durationSec = round((finished.getTime() - started.getTime()) / 1000, 1);
  const key = (r: Pick<ResultRow, 'test' | 'params'>): string => `${r.test} ${JSON.stringify(r.params)}`;
  const hostRows = new Map(rows.filter((r) => r.arch === 'host').map((r) => [key(r), r]));
  const results: RunResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'cnilab', version: o.version },
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSec,
    timing: {
      setupSec: round(timing.setupSec, 1),
      warmupSec: round(timing.warmupSec, 1),
      measureSec: round(timing.measureSec, 1),
      teardownSec: round(timing.teardownSec, 1),
      otherSec: round(Math.max(0, durationSec - timing.setupSec - timing.warmupSec - timing.measureSec - timing.teardownSec), 1),
    },
    lab: {
      name: o.topology.name,
      nodes: o.topology.nodes.length,
      computeNodes: o.topology.nodes.filter((n) => n.role === 'compute').length,
      underlayMtu: o.topology.underlay.mtu,
      podCidr: o.topology.podCidr,
    },
    settings: {
      tests,
      durationSec: o.durationSec,
      latencySec: o.latencySec,
      warmupSec: o.warmupSec,
      repeats: o.repeats,
      streams: o.streams,
      udpRateMbps: o.udpRateMbps,
      covThresholdPct: o.covThresholdPct,
      cpuAffinity: affinity ? `${affinity.client},${affinity.server}` : null,
    },
    environment: environment(features),
    architectures: [...byArch.keys()].map((a) => ({ name: a.name, family: a.family, summary: a.summary })),
    rows: rows.map((r) => {
      const base = hostRows.get(key(r))?.metrics[r.primary]?.median;
      const mine = r.metrics[r.primary]?.median;
      return { ...r, baselinePct: base && mine !== undefined ? round((mine / base) * 100, 1) : null };
    }),
    paths,
    skipped,
  };
  writeFileSync(join(o.outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  return results;
}

interface CellContext {
  readonly o: RunOptions;
  readonly lab: LabState;
  readonly cell: Cell;
  readonly client: string;
  readonly server: string;
  readonly serverIp: string;
  readonly mtu: number;
  readonly stops: readonly PathStop[];
  readonly nodes: readonly string[];
  readonly tests: readonly TestName[];
  readonly affinity?: { client: number; server: number };
  readonly progress: (step: string) => void;
  readonly timed: <T>(phase: Phase, planned: number, body: () => Promise<T>) => Promise<T>;
  readonly secondsOf: (t: TestName) => number;
}

/** One sample of a test: its metrics, and host CPU while it ran (throughput tests). */
interface Sample {
  readonly metrics: Partial<Record<MetricName, number>>;
  readonly retransmits?: number;
  readonly cpu?: CpuSplit;
}

const PRIMARY: Record<TestName, MetricName> = {
  tcp: 'gbps',
  'tcp-parallel': 'gbps',
  udp: 'gbps',
  pps: 'pps',
  sweep: 'gbps',
  latency: 'rttP50Us',
  'latency-loaded': 'rttP50Us',
};

/** A test's rows: each measured `repeats` times by `sample`, or all at once by `batch`. */
interface Variant {
  readonly params: ResultRow['params'];
  readonly sample?: () => Promise<Sample>;
  readonly batch?: () => Promise<Sample[]>;
}

function variantsFor(c: CellContext, test: TestName): Variant[] {
  const { o } = c;
  const client = { name: c.client };
  const affinity = c.affinity ? `${c.affinity.client},${c.affinity.server}` : undefined;
  const variants: Variant[] = [];
  const throughput = (s: { bitsPerSecond: number; cpu: CpuSplit; retransmits?: number }): Sample => ({ metrics: { gbps: s.bitsPerSecond / 1e9 }, cpu: s.cpu, ...(s.retransmits !== undefined ? { retransmits: s.retransmits } : {}) });
  const udp = async (rateBps: number, lengthBytes?: number): Promise<Sample> => {
    const s = await udpSample({ client, serverIp: c.serverIp, durationSec: o.durationSec, rateBps, ...(lengthBytes ? { lengthBytes } : {}), affinity, signal: o.signal });
    return { metrics: { gbps: s.bitsPerSecond / 1e9, pps: s.packetsPerSecond, lossPct: s.lostPct, jitterMs: s.jitterMs }, cpu: s.cpu };
  };
  const latency = async (): Promise<Sample[]> => {
    const w = await latencySamples({ client, serverIp: c.serverIp, windows: o.repeats, windowSec: o.latencySec, cpu: c.affinity?.client, signal: o.signal });
    return w.map((l) => ({ metrics: { rttP50Us: l.p50Us, rttP90Us: l.p90Us, rttP99Us: l.p99Us, rttP999Us: l.p999Us } }));
  };
  switch (test) {
    case 'tcp':
      variants.push({ params: { streams: 1 }, sample: async () => throughput(await tcpSample({ client, serverIp: c.serverIp, durationSec: o.durationSec, affinity, signal: o.signal })) });
      break;
    case 'tcp-parallel':
      variants.push({ params: { streams: o.streams }, sample: async () => throughput(await tcpSample({ client, serverIp: c.serverIp, durationSec: o.durationSec, streams: o.streams, affinity, signal: o.signal })) });
      break;
    case 'udp':
      variants.push({ params: { rateMbps: o.udpRateMbps }, sample: () => udp(o.udpRateMbps * 1e6) });
      break;
    case 'pps':
      variants.push({ params: { rateMbps: 0, payloadBytes: 64 }, sample: () => udp(0, 64) });
      break;
    case 'sweep':
      for (const b of SWEEP_BYTES) variants.push({ params: { rateMbps: 0, payloadBytes: b }, sample: () => udp(0, b) });
      break;
    case 'latency':
      variants.push({ params: { payloadBytes: 64 }, batch: latency });
      break;
    case 'latency-loaded':
      variants.push({
        params: { payloadBytes: 64 },
        batch: async () => {
          // A TCP stream that outlasts the latency run; it uses iperf3's server, sockperf its own.
          const load = tcpSample({ client, serverIp: c.serverIp, durationSec: latencyRunSec({ windows: o.repeats, windowSec: o.latencySec }) + 3, signal: o.signal });
          try {
            await sleep(300, o.signal);
            return await latency();
          } finally {
            await load.catch(() => undefined);
          }
        },
      });
      break;
  }
  return variants;
}

async function measureCell(c: CellContext, addPath: (p: PathRecord) => void): Promise<Omit<ResultRow, 'baselinePct'>[]> {
  const { o, cell } = c;
  const name = `${cell.arch.name} ${cell.path}`;
  const client = { name: c.client };
  const affinity = c.affinity ? `${c.affinity.client},${c.affinity.server}` : undefined;
  const servers: (Iperf3Server | SockperfServer)[] = [startIperf3Server({ name: c.server }, c.serverIp)];
  if (c.tests.some((t) => LATENCY_TESTS.includes(t))) servers.push(startSockperfServer({ name: c.server }, c.serverIp, { cpu: c.affinity?.server }));
  const rows: Omit<ResultRow, 'baselinePct'>[] = [];
  try {
    if (o.warmupSec > 0) {
      c.progress(`${name}: warm-up`);
      await c.timed('warmupSec', o.warmupSec + PLAN.perSample, () => tcpSample({ client, serverIp: c.serverIp, durationSec: o.warmupSec, affinity, signal: o.signal }));
    }
    // The interfaces' counters are read around the first throughput test: the path it took.
    const countedTest = c.tests.find((t) => !LATENCY_TESTS.includes(t));
    for (const test of c.tests) {
      const variants = variantsFor(c, test);
      for (const v of variants) {
        const counted = test === countedTest && v === variants[0];
        const meter = counted ? new DatapathMeter(c.lab.lab, c.nodes) : undefined;
        const before = counted ? await snapshot(c.stops) : undefined;
        const samples: Sample[] = [];
        const size = v.params.payloadBytes && test === 'sweep' ? ` ${v.params.payloadBytes} B` : '';
        if (v.batch) {
          c.progress(`${name}: ${test}, ${o.repeats} × ${o.latencySec} s windows of one run`);
          samples.push(...(await c.timed('measureSec', c.secondsOf(test), v.batch)));
        } else {
          for (let r = 1; r <= o.repeats; r++) {
            c.progress(`${name}: ${test}${size} ${r}/${o.repeats}`);
            // The data path's processes are metered while the client runs only.
            await meter?.start();
            samples.push(await c.timed('measureSec', c.secondsOf(test), v.sample!));
            await meter?.stop();
          }
        }
        if (before) {
          addPath({
            arch: cell.arch.name,
            path: cell.path,
            client: cell.endpoints.client,
            server: cell.endpoints.server,
            mtu: c.mtu,
            encapBytes: c.lab.topology.underlay.mtu - c.mtu,
            measuredWith: test,
            hops: hops(c.stops, before, await snapshot(c.stops)),
          });
        }
        rows.push(row(c, test, v.params, samples, meter?.results()));
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return rows;
}

function row(c: CellContext, test: TestName, params: ResultRow['params'], samples: readonly Sample[], datapath: ResultRow['datapath']): Omit<ResultRow, 'baselinePct'> {
  const primary = PRIMARY[test];
  const metrics: ResultRow['metrics'] = {};
  for (const m of Object.keys(samples[0]!.metrics) as MetricName[]) {
    // gbps keeps 3 decimals (Mbit/s), pps whole packets, the rest 3 decimals of their unit.
    metrics[m] = describe(samples.map((s) => s.metrics[m]!), m === 'pps' ? 0 : 3);
  }
  const cpuSamples = samples.flatMap((s) => (s.cpu ? [s.cpu] : []));
  const cpu = cpuSamples.length
    ? { user: median(cpuSamples.map((s) => s.user)), system: median(cpuSamples.map((s) => s.system)), softirq: median(cpuSamples.map((s) => s.softirq)), busy: median(cpuSamples.map((s) => s.busy)) }
    : undefined;
  const gbps = metrics.gbps?.median;
  // % of all CPUs → cores busy → core-seconds per second per Gbit/s = core-seconds per Gbit.
  const perGbit = (pct: number): number => round(((pct / 100) * cpus().length) / gbps!, 3);
  const retransmits = samples.some((s) => s.retransmits !== undefined) ? samples.reduce((n, s) => n + (s.retransmits ?? 0), 0) : undefined;
  return {
    arch: c.cell.arch.name,
    family: c.cell.arch.family,
    path: c.cell.path,
    test,
    params,
    client: c.cell.endpoints.client,
    server: c.cell.endpoints.server,
    primary,
    metrics,
    ...(retransmits !== undefined ? { retransmits } : {}),
    ...(cpu ? { cpu } : {}),
    ...(cpu && gbps ? { coreSecondsPerGbit: { user: perGbit(cpu.user), system: perGbit(cpu.system), softirq: perGbit(cpu.softirq), total: perGbit(cpu.busy) } } : {}),
    unstable: unstable(metrics[primary]!, c.o.covThresholdPct),
    ...(datapath ? { datapath } : {}),
  };
}

function resolveEndpoints(lab: LabState, cell: Cell): { client: string; server: string; serverIp: string; mtu: number; stops: PathStop[]; nodes: string[] } {
  const { client, server } = cell.endpoints;
  const sw: PathStop = { netns: switchNetns(lab.lab), label: 'switch', side: 'middle' };
  if (!cell.arch.conflist) {
    const node = lab.topology.nodes.find((n) => n.name === server)!;
    return {
      client: nodeNetns(lab.lab, client),
      server: nodeNetns(lab.lab, server),
      serverIp: node.underlayIp,
      mtu: lab.topology.underlay.mtu,
      stops: [{ netns: nodeNetns(lab.lab, client), label: `node ${client}`, side: 'client' }, sw, { netns: nodeNetns(lab.lab, server), label: `node ${server}`, side: 'server' }],
      nodes: [client, server],
    };
  }
  const pod = (name: string) => lab.pods.find((p) => p.name === name)!;
  const [a, b] = [pod(client), pod(server)];
  const stops: PathStop[] =
    a.node === b.node
      ? [
          { netns: podNetns(lab.lab, client), label: `pod ${client}`, side: 'client' },
          { netns: nodeNetns(lab.lab, a.node), label: `node ${a.node}`, side: 'middle' },
          { netns: podNetns(lab.lab, server), label: `pod ${server}`, side: 'server' },
        ]
      : [
          { netns: podNetns(lab.lab, client), label: `pod ${client}`, side: 'client' },
          { netns: nodeNetns(lab.lab, a.node), label: `node ${a.node}`, side: 'client' },
          sw,
          { netns: nodeNetns(lab.lab, b.node), label: `node ${b.node}`, side: 'server' },
          { netns: podNetns(lab.lab, server), label: `pod ${server}`, side: 'server' },
        ];
  return { client: podNetns(lab.lab, client), server: podNetns(lab.lab, server), serverIp: b.ip, mtu: a.mtu, stops, nodes: [a.node, b.node] };
}

function environment(features: FeatureReport): RunResults['environment'] {
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

