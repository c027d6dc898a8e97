/**
 * The attach test, measured in running labs. Per lab size (ascending): every lab is filled to N
 * pods, then rounds: in each, one probe per lab, the labs in the round's seeded order — so drift on
 * the machine spreads over the architectures. A probe is one pod: its namespace, then timed: CNI
 * ADD (the lab's runtime on the probe's node, the node's configuration list — what `up` runs),
 * the first answered ping from the new pod to the target pod (ping's own reply timestamp), CNI
 * DEL; its namespace goes last. One probe at a time, nothing else in flight. Afterwards (also on
 * error) every filler is deleted through CNI and its namespace removed, so the lab holds what it
 * held before; on abort the run's tear-down removes the lab, extra pods with it (same prefix).
 */
import { POD_IF } from '../../arch/architecture';
import { loadConfList, type CniRuntime } from '../../cni/runtime';
import { outOfCni, type NetConfList } from '../../cni/types';
import { CnilabError } from '../../lib/errors';
import { addNetns, netnsPath } from '../../lib/netns';
import { podNetns } from '../../lab/names';
import { attachPods, conflistFile, runtimeFor } from '../../lab/pods';
import type { LabState } from '../../lab/state';
import { deleteNamespaces } from '../../lab/teardown';
import type { PodSpec } from '../../topology/schema';
import { msStat } from '../after/ms-stat';
import type { AfterMeasureOptions } from '../after/test';
import { firstReply } from '../after/ping';
import type { AttachJson } from './schema';
import { judgeNoise, load1, NOISE_LIMITS, readNoise } from '../noise';
import { roundOrder } from '../schedule';
import { cpuSplit } from '../../traffic/cpu/proc-stat';
import { fillersTo, PROBE_PREFIX, type AttachCell, type AttachSettings } from './plan';

/** A lab the attach test runs in. */
export interface AttachLab {
  readonly cell: AttachCell;
  readonly state: LabState;
}

/**
 * The machine while a size's probes ran (every lab's, together): CPU busy, stolen, outside the labs (% of all CPUs),
 * load.
 */
export type AttachNoise = NonNullable<AttachJson['archs'][number]['sizes'][number]['noise']>;

/** One probe's times, ms. */
export interface ProbeTimes {
  readonly add: number;
  readonly firstPacket: number;
  readonly del: number;
}

/** How long a probe waits for its first answer before the run fails. */
const FIRST_PACKET_DEADLINE_SEC = 10;

const wallMs = (): number => performance.timeOrigin + performance.now();

interface LabRun {
  readonly lab: AttachLab;
  readonly list: NetConfList;
  readonly fillers: PodSpec[];
  readonly times: Map<number, ProbeTimes[]>;
  readonly noise: Map<number, AttachNoise>;
  readonly targetIp: string;
  probes: number;
}

const rtConf = (lab: string, pod: string) => ({
  containerId: `${lab}-${pod}`,
  netns: netnsPath({ name: podNetns(lab, pod) }),
  ifName: POD_IF,
});

/** One probe: namespace, then ADD, first answered ping, DEL timed; the namespace removed. */
export async function probe(l: LabRun, rt: CniRuntime, signal?: AbortSignal): Promise<ProbeTimes> {
  const lab = l.lab.state.lab;
  const pod = `${PROBE_PREFIX}${++l.probes}`;
  const ns = podNetns(lab, pod);
  await addNetns(ns);
  let added = false;
  try {
    const t0 = wallMs();
    await rt.addNetworkList(l.list, rtConf(lab, pod), signal).catch((e: unknown) => {
      throw outOfCni(e, `attach probe ${pod} on ${l.lab.cell.node} of lab ${lab}: `);
    });
    added = true;
    const add = wallMs() - t0;
    const reply = await firstReply(ns, l.targetIp, FIRST_PACKET_DEADLINE_SEC, signal);
    if (reply === undefined)
      throw new CnilabError(
        'TRAFFIC_FAILED',
        `attach probe ${pod} on ${l.lab.cell.node} of lab ${lab} got no answer from ${l.lab.cell.target} ` +
          `(${l.targetIp}) within ${FIRST_PACKET_DEADLINE_SEC} s`,
      );
    const t2 = wallMs();
    added = false;
    await rt.delNetworkList(l.list, rtConf(lab, pod), signal);
    return { add, firstPacket: reply - t0, del: wallMs() - t2 };
  } finally {
    // A failed probe is deleted too, unless the run is being aborted (its tear-down removes the lab).
    if (added && !signal?.aborted) await rt.delNetworkList(l.list, rtConf(lab, pod)).catch(() => undefined);
    if (!signal?.aborted) await deleteNamespaces([ns]);
  }
}

/** Brings a lab to `n` pods with fillers, each node's through its own runtime and list (as `up` does). */
async function fill(l: LabRun, n: number, signal?: AbortSignal): Promise<void> {
  const { state } = l.lab;
  const compute = state.topology.nodes.filter((x) => x.role === 'compute').map((x) => x.name);
  const more = fillersTo([...state.topology.pods, ...l.fillers], compute, n, l.fillers.length + 1);
  for (const node of compute) {
    const pods = more.filter((p) => p.node === node);
    if (pods.length === 0) continue;
    // Pushed first: a filler whose ADD fails is still removed.
    l.fillers.push(...pods);
    await attachPods(state.lab, pods, loadConfList(conflistFile(state.lab, node)), signal);
  }
}

/**
 * Every filler: CNI DEL on its node, two at a time (as `attachPods` adds them), then the namespaces. The first DEL
 * failure is thrown after.
 */
async function removeFillers(l: LabRun): Promise<void> {
  const lab = l.lab.state.lab;
  let failure: unknown;
  const queue = [...l.fillers];
  const lists = new Map<string, NetConfList>();
  const worker = async (): Promise<void> => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      if (!lists.has(p.node)) lists.set(p.node, loadConfList(conflistFile(lab, p.node)));
      await runtimeFor(lab, p.node)
        .delNetworkList(lists.get(p.node)!, rtConf(lab, p.name))
        .catch((e: unknown) => (failure ??= e));
    }
  };
  await Promise.all([worker(), worker()]);
  await deleteNamespaces(l.fillers.map((p) => podNetns(lab, p.name)));
  l.fillers.length = 0;
  if (failure !== undefined) throw failure;
}

export async function measureAttach(
  labs: readonly AttachLab[],
  s: AttachSettings,
  o: AfterMeasureOptions,
): Promise<AttachJson['archs']> {
  const runs: LabRun[] = labs.map((lab) => ({
    lab,
    list: loadConfList(conflistFile(lab.state.lab, lab.cell.node)),
    fillers: [],
    times: new Map(),
    noise: new Map(),
    targetIp: lab.state.pods.find((p) => p.name === lab.cell.target)!.ip,
    probes: 0,
  }));
  try {
    for (const n of s.sizes) {
      for (const l of runs) {
        o.progress(`attach: ${l.lab.cell.arch.name}: filling the lab to ${n} pods`);
        await fill(l, n, o.signal);
      }
      const before = readNoise(o.labNetns());
      for (let round = 1; round <= s.samples; round++) {
        o.progress(`attach: ${n} pods, probe ${round}/${s.samples}`);
        for (const l of roundOrder(runs, o.seed, round + n * 1000, () => 'attach')) {
          const rt = runtimeFor(l.lab.state.lab, l.lab.cell.node);
          const t = await probe(l, rt, o.signal);
          l.times.set(n, [...(l.times.get(n) ?? []), t]);
        }
      }
      const after = readNoise(o.labNetns());
      const { stealPct, outsidePct, load1: load } = judgeNoise(before, after, load1(), NOISE_LIMITS);
      const { busy } = cpuSplit(before.cpu, after.cpu);
      for (const l of runs) l.noise.set(n, { busyPct: busy, stealPct, outsidePct, load1: load });
    }
  } finally {
    if (!o.signal?.aborted) {
      o.progress('attach: removing the extra pods');
      for (const l of runs) await removeFillers(l);
    }
  }
  return runs.map((l) => assembleAttach(l.lab.cell, l.lab.state, l.times, l.noise));
}

/** An architecture's attach figures, per lab size. */
export function assembleAttach(
  cell: AttachCell,
  state: Pick<LabState, 'lab' | 'topology'>,
  times: ReadonlyMap<number, readonly ProbeTimes[]>,
  noise: ReadonlyMap<number, AttachNoise> = new Map(),
): AttachJson['archs'][number] {
  return {
    arch: cell.arch.name,
    family: cell.arch.family,
    ...(cell.ipFamily === undefined ? {} : { ipFamily: cell.ipFamily }),
    lab: state.lab,
    node: cell.node,
    target: cell.target,
    path: cell.path,
    sizes: [...times.entries()].map(([pods, ts]) => ({
      pods,
      fillers: Math.max(0, pods - state.topology.pods.length),
      add: msStat(ts.map((t) => t.add)),
      firstPacket: msStat(ts.map((t) => t.firstPacket)),
      del: msStat(ts.map((t) => t.del)),
      ...(noise.has(pods) ? { noise: noise.get(pods)! } : {}),
    })),
  };
}
