/**
 * The attach test, planned (pure). It measures what attaching a pod costs in a running lab: probe
 * pods are added one at a time on the first compute node through the lab's own CNI runtime and
 * configuration list (as `up` attaches pods), each pings an existing pod, then is deleted. Before
 * the probes of a lab size N, filler pods bring the lab to N pods (spread over the compute nodes,
 * the emptiest first), so that one ADD into a lab of N pods, none in flight, is what is timed.
 * Every extra pod is named `attach-…`: its namespace carries the lab's prefix (`down` finds it).
 */
import type { PathName } from '../../arch/vocabulary';
import { refuseFamilies } from '../../arch/architecture';
import { CnilabError } from '../../lib/errors';
import type { PodSpec, Topology } from '../../topology/schema';
import { cellOf, measurable, type AfterCell, type AfterPlanContext } from '../after/test';
import { endpointsFor } from '../paths';
import type { Skipped } from '../results-schema';

/** What the attach test takes: probes per lab size, and the lab sizes. */
export interface AttachSettings {
  /** Probe pods per architecture and lab size (default 20). */
  readonly samples: number;
  /** Lab sizes N, in pods held when a probe is added (default 10 and 100). */
  readonly sizes: readonly number[];
}

export const ATTACH_DEFAULTS: AttachSettings = { samples: 20, sizes: [10, 100] };
/** The largest lab size `--attach-sizes` takes. */
export const ATTACH_MAX_SIZE = 5000;

/** An architecture's attach measurement: its lab, the node probes go on, the pod they ping. */
export interface AttachCell extends AfterCell {
  readonly node: string;
  readonly target: string;
  readonly path: PathName;
}

export const PROBE_PREFIX = 'attach-p';
export const FILLER_PREFIX = 'attach-f';

/**
 * The architectures the attach test runs on: those that attach pods (not the baseline) and whose
 * features are present; the probe's node and target from the inter-node path (intra-node where an
 * architecture has no inter-node path). `mtu`: the lab of the first underlay MTU when it is a dimension.
 */
export function planAttach(ctx: AfterPlanContext): { cells: AttachCell[]; skipped: Skipped[] } {
  const cells: AttachCell[] = [];
  const skipped: Skipped[] = [];
  for (const arch of [...new Set(ctx.archs)].filter((a) => measurable(ctx, a))) {
    const path: PathName = arch.unsupported?.['inter-node'] ? 'intra-node' : 'inter-node';
    const ep = endpointsFor(ctx.topology, arch, path);
    if (typeof ep === 'string') {
      skipped.push({ arch: arch.name, test: 'attach', reason: `a probe pod needs a pod to ping: ${ep}` });
      continue;
    }
    const node = ctx.topology.pods.find((p) => p.name === ep.client)!.node;
    // Per IP family when the family is a dimension: attach in each of the architecture's.
    for (const ipFamily of ctx.ipFamilies?.filter((f) => !refuseFamilies(arch, [f])) ?? [undefined])
      cells.push({ ...cellOf(arch, ctx, ipFamily ? { ipFamily } : {}), node, target: ep.server, path });
  }
  return { cells, skipped };
}

/** Addresses a node's pod subnet holds for pods: all but the network, gateway and broadcast addresses. */
export const podsPerSubnet = (subnetLength: number): number => 2 ** (32 - subnetLength) - 3;

/**
 * The filler pods that bring a lab from `held` pods to `n`: each on the compute node holding the
 * fewest, named attach-f<k> from `next` on. None when it holds n already.
 */
export function fillersTo(held: readonly PodSpec[], computeNodes: readonly string[], n: number, next = 1): PodSpec[] {
  const count = new Map(computeNodes.map((c) => [c, 0]));
  for (const p of held) count.set(p.node, (count.get(p.node) ?? 0) + 1);
  const out: PodSpec[] = [];
  for (let k = held.length; k < n; k++) {
    const node = computeNodes.reduce((a, b) => (count.get(b)! < count.get(a)! ? b : a));
    count.set(node, count.get(node)! + 1);
    out.push({ name: `${FILLER_PREFIX}${next + out.length}`, node });
  }
  return out;
}

/**
 * The lab sizes, checked against the topology: each at least the pods the topology's lab holds,
 * and the largest, with its probe, within each node's pod subnet. Returns them sorted.
 */
export function checkAttachSizes(topology: Topology, sizes: readonly number[], probeNode?: string): number[] {
  const sorted = [...new Set(sizes)].sort((a, b) => a - b);
  const held = topology.pods.length;
  if (sorted[0]! < held)
    throw new CnilabError(
      'INVALID_INPUT',
      `--attach-sizes: ${sorted[0]} is below ` +
        `the ${held} pods the topology's lab holds ` +
        `already; give sizes of ${held} or more`,
    );
  const compute = topology.nodes.filter((n) => n.role === 'compute').map((n) => n.name);
  const max = sorted[sorted.length - 1]!;
  const all = [...topology.pods, ...fillersTo(topology.pods, compute, max)];
  const room = podsPerSubnet(topology.subnetLength);
  for (const node of compute) {
    const need = all.filter((p) => p.node === node).length + (node === (probeNode ?? compute[0]) ? 1 : 0);
    if (need > room)
      throw new CnilabError(
        'INVALID_INPUT',
        `--attach-sizes: ${max} pods over ${compute.length} compute nodes put ${need} pods on ${node}, whose ` +
          `/${topology.subnetLength} ` +
          `pod subnet holds ${room}; give a topology with more compute nodes (--topology) or smaller sizes`,
      );
  }
  return sorted;
}

/** Seconds planned for the attach test in `labs` labs: a probe ~0.35 s, a filler ~0.1 s (2 cores, Node plugins). */
export const attachPlannedSec = (labs: number, s: AttachSettings): number =>
  labs * (s.sizes.length * s.samples * 0.35 + Math.max(...s.sizes) * 0.1);
