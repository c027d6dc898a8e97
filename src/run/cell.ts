/**
 * Measuring one path of a lab: its servers, one warm-up, then each selected test's rows — every
 * sample with host CPU, the data path's processes metered around the first throughput test and
 * the interfaces' counters read around it (the hops).
 */
import { cpus } from 'node:os';
import { hasPods } from '../arch/architecture';
import { kuryrLayout } from '../kuryr/architectures';
import { CnilabError } from '../lib/errors';
import { sleep } from '../lib/exec';
import { routerLegs, routerNetns } from '../kuryr/control-plane';
import { containsIPv4, parseCidr, parseIPv4 } from '../lib/ip';
import { nodeNetns, podNetns, switchNetns } from '../lab/names';
import type { LabState } from '../lab/state';
import type { CpuSplit } from '../traffic/cpu/proc-stat';
import { startIperf3Server, tcpSample, udpSample, type Iperf3Server } from '../traffic/iperf3/run';
import { latencyRunSec, latencySamples, startSockperfServer, type SockperfServer } from '../traffic/sockperf/run';
import { DatapathMeter } from './datapath';
import { hops, snapshot, type PathStop } from './hops';
import type { Cell } from './matrix';
import type { MetricName, PathRecord, ResultRow, TestName } from './results-schema';
import type { RunOptions } from './run';
import { describe, median, round, unstable } from './stats';

/** Payload sizes of the sweep test: small to the largest that fits every pod MTU of the matrix (1450 − 28). */
export const SWEEP_BYTES = [128, 512, 1024, 1400] as const;
export const LATENCY_TESTS: readonly TestName[] = ['latency', 'latency-loaded'];

/** The CPUs clients and servers are pinned to. */
export interface Affinity {
  readonly client: number;
  readonly server: number;
}

/** An affinity as iperf3 -A takes it: "0,1". */
export const affinityArg = (a: Affinity | undefined): string | undefined => (a ? `${a.client},${a.server}` : undefined);

export type Phase = 'setupSec' | 'warmupSec' | 'measureSec' | 'teardownSec';

/** Seconds planned per step, before any is measured: what a lab set-up and a process start cost here. */
export const PLAN = { setup: 4, teardown: 0.5, perSample: 0.4, sockperfStart: 2.3 };

export interface CellContext {
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
  readonly affinity?: Affinity;
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
  const affinity = affinityArg(c.affinity);
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

export async function measureCell(c: CellContext, addPath: (p: PathRecord) => void): Promise<Omit<ResultRow, 'baselinePct'>[]> {
  const { o, cell } = c;
  const name = `${cell.arch.name} ${cell.path}`;
  const client = { name: c.client };
  const affinity = affinityArg(c.affinity);
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

export function resolveEndpoints(lab: LabState, cell: Cell): { client: string; server: string; serverIp: string; mtu: number; stops: PathStop[]; nodes: string[] } {
  const { client, server } = cell.endpoints;
  const sw: PathStop = { netns: switchNetns(lab.lab), label: 'switch', side: 'middle' };
  if (!hasPods(cell.arch)) {
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
  const router = cell.path === 'routed' ? routerOnPath(lab) : undefined;
  const stops: PathStop[] = router
    ? [
        // A to C via B: B's node and the switch are crossed twice, once per network.
        { netns: podNetns(lab.lab, client), label: `pod ${client}`, side: 'client' },
        { netns: nodeNetns(lab.lab, a.node), label: `node ${a.node}`, side: 'client' },
        { ...sw, exclude: [b.node] },
        { netns: nodeNetns(lab.lab, router.node), label: `node ${router.node}`, side: 'middle', order: 'in', excludeSegmentOf: router.legTo(b.ip) },
        { netns: router.netns, label: `router on ${router.node}`, side: 'middle' },
        { netns: nodeNetns(lab.lab, router.node), label: `node ${router.node}`, side: 'middle', order: 'out', excludeSegmentOf: router.legTo(a.ip) },
        { ...sw, exclude: [a.node] },
        { netns: nodeNetns(lab.lab, b.node), label: `node ${b.node}`, side: 'server' },
        { netns: podNetns(lab.lab, server), label: `pod ${server}`, side: 'server' },
      ]
    : a.node === b.node
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
  return { client: podNetns(lab.lab, client), server: podNetns(lab.lab, server), serverIp: b.ip, mtu: a.mtu, stops, nodes: router ? [a.node, router.node, b.node] : [a.node, b.node] };
}


/** The router between the Kuryr networks: its node, namespace, and which leg faces an address. */
function routerOnPath(lab: LabState): { node: string; netns: string; legTo: (ip: string) => string | undefined } {
  const host = kuryrLayout(lab.topology).routerHost;
  const netns = host ? routerNetns(lab.lab, host) : undefined;
  if (!host || !netns) throw new CnilabError('TRAFFIC_FAILED', `lab ${lab.lab} runs no router for the routed path`);
  const legs = routerLegs(lab.lab, host);
  return { node: host, netns, legTo: (ip) => legs.find((l) => l.cidr && containsIPv4(parseCidr(l.cidr), parseIPv4(ip)))?.hostIf };
}
