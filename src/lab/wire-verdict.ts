/**
 * The judgement of a capture on the switch (wire-proof.ts takes it): did pod traffic between two
 * nodes cross encrypted, as the architecture's design says? Pure, over parsed frames.
 *
 * It fails when a marker sent pod to pod is seen in any frame (plaintext), when a frame's own IPv4
 * header carries a pod address (a pod packet on the wire unwrapped), when no packet of the design's
 * kind (UDP to its port, or ESP) passed between the two nodes' underlay addresses, when the markers
 * did not arrive (a proof over a path that carried nothing proves nothing), or when the capture
 * lost packets. What real clusters leave unencrypted — BGP (tcp/179) between nodes, the nodes'
 * calls to the controller — is control plane, not pod traffic: counted and said, never a failure.
 */
import { containsIPv4, parseCidr, parseIPv4, type Cidr } from '../lib/ip';
import { frameKind, IPPROTO, type PcapFrame } from '../lib/pcap';
import type { Encryption } from '../arch/architecture';

/** What carries pod packets between nodes, in the design. */
export type Wire = Encryption['wire'];

export const wireName = (w: Wire): string => (w.proto === 'udp' ? `udp/${w.port}` : 'esp');

/** The TCP port of BGP, which Calico's nodes speak in the clear, as every BGP speaker does. */
export const BGP_PORT = 179;

export interface ProofInput {
  readonly frames: readonly PcapFrame[];
  /** The marker's bytes, as sent pod to pod. */
  readonly marker: string;
  readonly wire: Wire;
  /** The two compute nodes' underlay addresses: the expected outer addresses. */
  readonly nodes: readonly [string, string];
  /** The control node's underlay addresses (its API is control plane). */
  readonly control: readonly string[];
  /** The pods' network (the topology's pod CIDR). */
  readonly podCidr: string;
  /** Whether the marker arrived, per protocol sent. */
  readonly delivered: Readonly<Record<'tcp' | 'udp', boolean>>;
  /** Packets the capture lost (tcpdump's "dropped by kernel"); undefined when it did not say. */
  readonly dropped?: number;
}

export interface ProofVerdict {
  readonly ok: boolean;
  /** Why it failed, one line each (empty when ok). */
  readonly failures: string[];
  /** Frames captured. */
  readonly packets: number;
  /** Frames that hold the marker (plaintext seen): must be 0. */
  readonly markers: number;
  /** Frames whose own IPv4 header carries a pod address: must be 0. */
  readonly podAddressed: number;
  /** Frames between the two nodes' underlay addresses, by kind ("udp/51820", "esp", "tcp/179", …). */
  readonly betweenNodes: Record<string, number>;
  /** Of those, the design's wire (UDP to its port, or ESP), outer addresses the two nodes': must be > 0. */
  readonly design: number;
  /** Control-plane frames left unencrypted as in real clusters, by what they are; not failures. */
  readonly controlPlane: Record<string, number>;
  readonly delivered: Readonly<Record<'tcp' | 'udp', boolean>>;
  readonly dropped?: number;
}

export function judgeCapture(i: ProofInput): ProofVerdict {
  const pods = parseCidr(i.podCidr);
  const marker = Buffer.from(i.marker);
  const [a, b] = i.nodes;
  const between: Record<string, number> = {};
  const controlPlane: Record<string, number> = {};
  let markers = 0;
  let podAddressed = 0;
  let design = 0;
  for (const f of i.frames) {
    if (f.data.includes(marker)) markers++;
    const ip = f.ipv4;
    if (!ip) continue;
    if (inPods(pods, ip.src) || inPods(pods, ip.dst)) podAddressed++;
    const kind = frameKind(f);
    if (i.control.includes(ip.src) || i.control.includes(ip.dst)) {
      bump(controlPlane, `controller ${kind}`);
      continue;
    }
    const pair = (ip.src === a && ip.dst === b) || (ip.src === b && ip.dst === a);
    if (!pair) continue;
    bump(between, kind);
    if (ip.proto === IPPROTO.tcp && (ip.sport === BGP_PORT || ip.dport === BGP_PORT)) bump(controlPlane, 'bgp tcp/179');
    if (isDesign(i.wire, ip)) design++;
  }
  const failures: string[] = [];
  if (markers > 0) failures.push(`plaintext: the marker sent pod to pod was seen in ${markers} frames on the switch`);
  if (podAddressed > 0)
    failures.push(
      `plaintext: ${podAddressed} frames on the switch carry a pod address (${i.podCidr}) in their IP header`,
    );
  if (design === 0)
    failures.push(`no ${wireName(i.wire)} packet between ${a} and ${b}: the design's wire was not seen`);
  const lost = (['tcp', 'udp'] as const).filter((p) => !i.delivered[p]);
  if (lost.length)
    failures.push(`the marker did not arrive over ${lost.join(' and ')}: the path carried nothing to judge`);
  if (i.dropped) failures.push(`the capture dropped ${i.dropped} packets: it cannot prove what it missed`);
  return {
    ok: failures.length === 0,
    failures,
    packets: i.frames.length,
    markers,
    podAddressed,
    betweenNodes: between,
    design,
    controlPlane,
    delivered: i.delivered,
    ...(i.dropped !== undefined ? { dropped: i.dropped } : {}),
  };
}

function isDesign(w: Wire, ip: NonNullable<PcapFrame['ipv4']>): boolean {
  if (w.proto === 'esp') return ip.proto === IPPROTO.esp;
  return ip.proto === IPPROTO.udp && (ip.sport === w.port || ip.dport === w.port);
}

function inPods(pods: Cidr, addr: string): boolean {
  return containsIPv4(pods, parseIPv4(addr));
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

/** The verdict in one line, for the terminal and the report. */
export function verdictLine(v: ProofVerdict, wire: Wire): string {
  const cp = Object.entries(v.controlPlane).map(([k, n]) => `${k}: ${n}`);
  const head = v.ok
    ? `encrypted: ${v.design} ${wireName(wire)} packets between the nodes, 0 markers, 0 pod-addressed frames`
    : `NOT proven: ${v.failures.join('; ')}`;
  return `${head}${cp.length ? ` (control plane in the clear, as in real clusters: ${cp.join(', ')})` : ''}`;
}
