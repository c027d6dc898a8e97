/**
 * Link emulation of the underlay, on the veth that is each node's link to the switch.
 *
 * Design: a link is a cable, and its rate, delay and loss hold in each direction. So the same
 * qdiscs go on both ends' egress — the node's eth0 (node → switch) and the switch port
 * (switch → node). A packet from node1 to node2 crosses node1's link and then node2's: with
 * `delay: 2ms` lab-wide its one-way delay grows by 4 ms and a node-to-node or pod-to-pod round
 * trip across nodes by 8 ms (2 × (delay of node1's link + delay of node2's link)), as in Mininet
 * with TCLink. Loss likewise applies once per link and direction; the rate caps each direction of
 * each link, so the slower of the two links bounds a path. Traffic within one node never crosses
 * its link and is not affected.
 *
 * Qdiscs: delay and loss are netem (sch_netem); the rate is tbf (sch_tbf). With both, netem is the
 * root and tbf its child, as tc-netem(8) shows. What the kernel cannot load is refused before
 * anything is built (`refuseUnemulatable`), naming the field and the module.
 */
import { qdiscMissing, type FeatureReport } from '../doctor/features';
import { CnilabError } from '../lib/errors';
import { ipBatch } from '../lib/netns';
import { formatRate, type LinkSpec } from '../topology/link';
import { nodeLink, type NodeSpec, type Topology } from '../topology/schema';
import { nodeNetns, switchNetns, UNDERLAY_IF } from './names';

type Qdisc = 'tbf' | 'netem';

const FIELDS = [
  ['rate', 'rateBitsPerSec', 'tbf'],
  ['delay', 'delayUs', 'netem'],
  ['loss', 'lossPct', 'netem'],
] as const;

/** The qdiscs a link needs. */
export function qdiscsOf(l: LinkSpec): Qdisc[] {
  return [...(l.delayUs || l.lossPct ? ['netem' as const] : []), ...(l.rateBitsPerSec ? ['tbf' as const] : [])];
}

/** Each link field in force, with the topology field that set it and the qdisc it needs. */
export function linkNeeds(topology: Pick<Topology, 'underlay' | 'nodes'>): { field: string; qdisc: Qdisc }[] {
  const out = new Map<string, Qdisc>();
  for (const n of topology.nodes) {
    const l = nodeLink(topology, n);
    if (!l) continue;
    for (const [name, key, qdisc] of FIELDS) {
      if (!l[key]) continue;
      const own = n.link?.[key] !== undefined;
      out.set(own ? `topology.nodes.${n.name}.link.${name}` : `topology.underlay.${name}`, qdisc);
    }
  }
  return [...out].map(([field, qdisc]) => ({ field, qdisc }));
}

/** Throws FEATURE_MISSING, naming the field and the qdisc module, for a link option this kernel cannot emulate. */
export function refuseUnemulatable(topology: Pick<Topology, 'underlay' | 'nodes'>, features: FeatureReport): void {
  const miss = linkNeeds(topology).find((n) => !features[n.qdisc].ok);
  if (miss) throw new CnilabError('FEATURE_MISSING', `${miss.field}: ${qdiscMissing(miss.qdisc)}`);
}

/**
 * tbf's bucket: a millisecond at the rate, and at least four full frames (a smaller bucket than
 * one frame drops it). GSO super-packets larger than the bucket are segmented by tbf.
 */
export function burstBytes(rateBitsPerSec: number, mtu: number): number {
  return Math.max(Math.ceil(rateBitsPerSec / 8 / 1000), 4 * (mtu + 14));
}

/** The `tc -batch` lines that give device `dev` the link `l` on its egress. */
export function qdiscLines(dev: string, l: LinkSpec, mtu: number): string[][] {
  const netem = [
    'netem',
    'limit',
    '10000',
    ...(l.delayUs ? ['delay', `${l.delayUs}us`] : []),
    ...(l.lossPct ? ['loss', `${l.lossPct}%`] : []),
  ];
  const tbf = l.rateBitsPerSec
    ? [
        'tbf',
        'rate',
        formatRate(l.rateBitsPerSec),
        'burst',
        String(burstBytes(l.rateBitsPerSec, mtu)),
        'latency',
        '20ms',
      ]
    : undefined;
  const q = qdiscsOf(l);
  if (q.length === 0) return [];
  if (!q.includes('netem')) return [['qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', ...tbf!]];
  return [
    ['qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', ...netem],
    ...(tbf ? [['qdisc', 'add', 'dev', dev, 'parent', '1:1', 'handle', '10:', ...tbf]] : []),
  ];
}

/** Puts each node's link emulation on both ends of its link: its eth0 and its switch port. */
export async function emulateLinks(
  lab: string,
  topology: Pick<Topology, 'underlay'>,
  nodes: readonly NodeSpec[],
  mtu: number,
  signal?: AbortSignal,
): Promise<void> {
  const linked = nodes.flatMap((n) => {
    const l = nodeLink(topology, n);
    return l ? [{ n, l }] : [];
  });
  if (linked.length === 0) return;
  await ipBatch(
    { name: switchNetns(lab) },
    linked.flatMap(({ n, l }) => qdiscLines(n.name, l, mtu)),
    { tool: 'tc', signal },
  );
  for (const { n, l } of linked)
    await ipBatch({ name: nodeNetns(lab, n.name) }, qdiscLines(UNDERLAY_IF, l, mtu), { tool: 'tc', signal });
}

/** What results.json records of the link emulation: one entry per emulated link. */
export interface LinkRecord {
  readonly node: string;
  readonly rate?: string;
  readonly delayMs?: number;
  readonly lossPct?: number;
  readonly qdiscs: string[];
}

export function linkRecords(topology: Pick<Topology, 'underlay' | 'nodes'>): LinkRecord[] {
  return topology.nodes.flatMap((n) => {
    const l = nodeLink(topology, n);
    if (!l) return [];
    return [
      {
        node: n.name,
        ...(l.rateBitsPerSec ? { rate: formatRate(l.rateBitsPerSec) } : {}),
        ...(l.delayUs ? { delayMs: l.delayUs / 1000 } : {}),
        ...(l.lossPct ? { lossPct: l.lossPct } : {}),
        qdiscs: qdiscsOf(l),
      },
    ];
  });
}
