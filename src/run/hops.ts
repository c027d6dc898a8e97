/**
 * The hops traffic actually took: every interface's kernel counters in the namespaces along a
 * path, read before and after a test; the interfaces whose counters moved are the path, in order
 * from the client to the server. The report draws the data-path diagram from these.
 */
import { ipJson } from '../lib/netns';

export interface LinkCounters {
  readonly ifname: string;
  /** linkinfo kind (veth, bridge, vxlan, tun, macvlan, …), else the link type (loopback, none). */
  readonly kind: string;
  readonly mtu: number;
  /** The bridge it is a port of. */
  readonly master?: string;
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly rxBytes: number;
  readonly txBytes: number;
}

interface IpLink {
  ifname: string;
  mtu: number;
  link_type?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
  stats64?: { rx: { packets: number; bytes: number }; tx: { packets: number; bytes: number } };
}

/** `ip -s -d -j link show` output. */
export function parseIpLinkStats(links: readonly IpLink[]): LinkCounters[] {
  return links.map((l) => ({
    ifname: l.ifname,
    kind: l.linkinfo?.info_kind ?? l.link_type ?? 'unknown',
    mtu: l.mtu,
    ...(l.master ? { master: l.master } : {}),
    rxPackets: l.stats64?.rx.packets ?? 0,
    txPackets: l.stats64?.tx.packets ?? 0,
    rxBytes: l.stats64?.rx.bytes ?? 0,
    txBytes: l.stats64?.tx.bytes ?? 0,
  }));
}

/** One namespace on the path: a pod, a node or the switch. */
export interface PathStop {
  readonly netns: string;
  /** What the report calls it: `pod a1`, `node node1`, `switch`. */
  readonly label: string;
  /** Where the stop is: the client side, the middle (the switch) or the server side. */
  readonly side: 'client' | 'middle' | 'server';
  /**
   * A namespace the path crosses twice (the router's node, the switch on the routed path) is two
   * stops, each showing its own interfaces: `exclude` names interfaces of the other crossing;
   * `excludeSegmentOf` names one whose bridge and the bridge's other ports (but not the uplink)
   * are the other crossing's.
   */
  readonly exclude?: readonly string[];
  readonly excludeSegmentOf?: string;
  /** Order by position alone: `in` from the uplink towards the pods, `out` from the pods to the uplink. */
  readonly order?: 'in' | 'out';
}

/** The interfaces of `links` a stop leaves out (see PathStop). */
function excludedBy(s: PathStop, links: readonly LinkCounters[]): Set<string> {
  const out = new Set(s.exclude ?? []);
  const seg = s.excludeSegmentOf && links.find((l) => l.ifname === s.excludeSegmentOf);
  if (seg) {
    out.add(seg.ifname);
    if (seg.master) {
      out.add(seg.master);
      for (const l of links) if (l.master === seg.master && l.ifname !== 'eth0') out.add(l.ifname);
    }
  }
  return out;
}

export type CounterSnapshot = ReadonlyMap<string, readonly LinkCounters[]>;

export async function snapshot(stops: readonly PathStop[]): Promise<CounterSnapshot> {
  const entries = await Promise.all(
    stops.map(
      async (s) =>
        [s.netns, parseIpLinkStats(await ipJson<IpLink[]>({ name: s.netns }, ['-s', '-d', 'link', 'show']))] as const,
    ),
  );
  return new Map(entries);
}

/** An interface on the path, with what its counters moved during the test. */
export interface Hop extends LinkCounters {
  readonly stop: string;
}

/**
 * Interfaces that moved at least `minShare` of the busiest one's packets (strays such as IPv6
 * neighbour solicitations stay out), ordered client → server. Inside a namespace the data comes in
 * on some interfaces (more bytes received than sent) and leaves on others: those it enters by come
 * first. Among them, the client side goes from pod-facing ports through bridges and tunnels to the
 * uplink, and the server side back.
 */
export function hops(
  stops: readonly PathStop[],
  before: CounterSnapshot,
  after: CounterSnapshot,
  minShare = 0.02,
): Hop[] {
  const all: Hop[] = [];
  for (const s of stops) {
    const prev = new Map((before.get(s.netns) ?? []).map((l) => [l.ifname, l]));
    const moved: Hop[] = [];
    const links = after.get(s.netns) ?? [];
    const skip = excludedBy(s, links);
    for (const l of links) {
      if (l.kind === 'loopback' || skip.has(l.ifname)) continue;
      const p = prev.get(l.ifname);
      const d = (k: 'rxPackets' | 'txPackets' | 'rxBytes' | 'txBytes'): number => Math.max(0, l[k] - (p?.[k] ?? 0));
      moved.push({
        stop: s.label,
        ifname: l.ifname,
        kind: l.kind,
        mtu: l.mtu,
        ...(l.master ? { master: l.master } : {}),
        rxPackets: d('rxPackets'),
        txPackets: d('txPackets'),
        rxBytes: d('rxBytes'),
        txBytes: d('txBytes'),
      });
    }
    const dir = s.side === 'server' ? -1 : 1;
    const ingress = (h: Hop): number => (h.rxBytes >= h.txBytes ? 0 : 1);
    if (s.order)
      moved.sort((a, b) => (s.order === 'in' ? -1 : 1) * (rank(a) - rank(b)) || a.ifname.localeCompare(b.ifname));
    else moved.sort((a, b) => ingress(a) - ingress(b) || dir * (rank(a) - rank(b)) || a.ifname.localeCompare(b.ifname));
    all.push(...moved);
  }
  const busiest = Math.max(0, ...all.map(packets));
  return all.filter((h) => busiest > 0 && packets(h) >= busiest * minShare);
}

const packets = (h: Hop): number => h.rxPackets + h.txPackets;

/** Client-side order of a node's interfaces: pod-facing ports, bridges, tunnels, the uplink. */
function rank(h: Hop): number {
  if (h.ifname === 'eth0') return 3;
  if (h.kind === 'bridge') return 1;
  if (h.kind === 'vxlan' || h.kind === 'tun') return 2;
  if (h.master || h.kind === 'veth') return 0;
  return 2;
}
