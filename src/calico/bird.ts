/**
 * BIRD 2, as calico-bgp's BGP speaker: one `bird` per compute node, in the node's namespace, with
 * its own configuration and control socket in the node's folder (never /etc/bird, never
 * /run/bird). Calico runs a fork of BIRD 1.6; this is BIRD 2's syntax, written from its manual.
 *
 * Topology: a full iBGP mesh between the compute nodes' underlay addresses (AS 64512, Calico's
 * default), as Calico does by default below ~100 nodes; no route reflector.
 *
 * What each node announces: its own IPAM blocks, as static blackhole routes (the agent also puts
 * those blackholes in the kernel, so an address of the block that no pod holds is dropped here,
 * not bounced back). What it learns: the peers' blocks, put in the kernel as
 * `BLOCK via PEER dev eth0 proto bird`.
 *
 * IPv6 (an IPv6 or dual-stack lab): as Calico does (its bird6, peering with the nodes' IPv6
 * addresses), a second full mesh over the IPv6 underlay, one session per peer (`peer6_NODE`) with an
 * `ipv6` channel only, announcing the node's IPv6 blocks; the learnt ones go to the kernel as
 * `BLOCK via PEER6 dev eth0 proto bird`. BIRD 2 runs both meshes in one daemon; the router id stays
 * the IPv4 underlay address. The IPv4 sessions carry IPv4 only, unchanged.
 *
 * Timers, tuned as a lab on one segment wants them (BIRD's defaults are for the Internet):
 *   connect delay time 0     (default 5 s: the wait before the first connect after start;
 *                            BIRD waits at least 1 s whatever it says, less up to a quarter of
 *                            jitter: a new session's first connect comes 0.75–1 s after start)
 *   connect retry time 1     (default 120 s: the wait after a failed connect)
 *   error wait time 1, 5     (default 60, 300 s: the back-off after an error)
 *   hold time 9, keepalive 3 (default 240, 80 s: a dead peer is noticed in ≤ 9 s)
 *   kernel scan time 10      (default 60 s)
 */
import { join } from 'node:path';
import { run } from '../lib/exec';

export const BGP_AS = 64512;

export interface BirdPaths {
  readonly config: string;
  readonly socket: string;
}

export const birdPaths = (nodeDir: string): BirdPaths => ({
  config: join(nodeDir, 'bird.conf'),
  socket: join(nodeDir, 'bird.ctl'),
});

/** A peer's protocol name: BIRD's symbols are letters, digits and underscores. */
export const peerProtocol = (node: string): string => `peer_${node.replaceAll('-', '_')}`;
/** A peer's IPv6 session. */
export const peer6Protocol = (node: string): string => `peer6_${node.replaceAll('-', '_')}`;

export function birdConfig(o: {
  readonly routerId: string;
  /** The node's IPv6 underlay address: with it, the IPv6 mesh to the peers that have one. */
  readonly ip6?: string;
  /** The node's blocks, of either family. */
  readonly blocks: readonly string[];
  readonly peers: readonly { name: string; ip: string; ip6?: string }[];
  /** ipip mode: the device the learnt routes go out of, via the peer's address (onlink). */
  readonly tunnel?: string;
}): string {
  const statics = o.blocks.filter((b) => !b.includes(':')).map((b) => `  route ${b} blackhole;`);
  const peers = o.peers.map((p) => `protocol bgp ${peerProtocol(p.name)} from mesh { neighbor ${p.ip} as ${BGP_AS}; }`);
  const exportRoutes = o.tunnel
    ? 'export filter { if source != RTS_BGP then reject; ' +
      `onlink = true; ifname = "${o.tunnel}"; gw = bgp_next_hop; accept; };`
    : 'export where source = RTS_BGP;';
  return `# Written by cnilab's calico agent; reloaded with birdc configure on every change.
router id ${o.routerId};
log stderr all;

protocol device { scan time 10; }

protocol kernel {
  scan time 10;
  ipv4 { import none; ${exportRoutes} };
}

protocol static blocks {
  ipv4;
${statics.join('\n')}
}

${meshTemplate('mesh', o.routerId, 'ipv4', 'blocks')}
${peers.join('\n')}
${o.ip6 ? bird6(o.ip6, o.blocks, o.peers) : ''}`;
}

/**
 * The template of a full mesh's sessions: from `local`, fast timers (a lab's peers are one switch apart), the
 * `channel`'s routes imported and the `blocks` protocol's exported, next hop this node.
 */
function meshTemplate(name: string, local: string, channel: 'ipv4' | 'ipv6', blocks: string): string {
  return `template bgp ${name} {
  local ${local} as ${BGP_AS};
  direct;
  connect delay time 0;
  connect retry time 1;
  error wait time 1, 5;
  hold time 9;
  keepalive time 3;
  ${channel} { import all; export where proto = "${blocks}"; next hop self; };
}
`;
}

/** The IPv6 half: kernel and static protocols of the ipv6 table, and a mesh over the IPv6 underlay. */
function bird6(ip6: string, blocks: readonly string[], peers: readonly { name: string; ip6?: string }[]): string {
  const statics = blocks.filter((b) => b.includes(':')).map((b) => `  route ${b} blackhole;`);
  const sessions = peers.flatMap((p) =>
    p.ip6 ? [`protocol bgp ${peer6Protocol(p.name)} from mesh6 { neighbor ${p.ip6} as ${BGP_AS}; }`] : [],
  );
  return `
protocol kernel kernel6 {
  scan time 10;
  ipv6 { import none; export where source = RTS_BGP; };
}

protocol static blocks6 {
  ipv6;
${statics.join('\n')}
}

${meshTemplate('mesh6', ip6, 'ipv6', 'blocks6')}
${sessions.join('\n')}
`;
}

/** Runs `birdc -s socket ARGS`; its output. */
export async function birdc(socket: string, args: readonly string[]): Promise<string> {
  return (await run('birdc', ['-s', socket, ...args], { timeoutMs: 5000 })).stdout;
}

export interface BgpSession {
  readonly protocol: string;
  readonly state: string;
  /** BIRD's "since" column, as it prints it. */
  readonly since: string;
  readonly info: string;
}

/** `show protocols`' BGP lines. */
export function parseProtocols(text: string): BgpSession[] {
  const out: BgpSession[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+BGP\s+\S+\s+(\S+)\s+(\S+(?: \S+)?)\s*(.*)$/.exec(line.trim());
    if (m) out.push({ protocol: m[1]!, state: m[2]!, since: m[3]!, info: m[4]!.trim() });
  }
  return out;
}

/**
 * A BIRD time of day (`02:16:38.621`, its default format for today's events) as ms since the
 * epoch, on the day of `nearMs` (the day before when that would put it in the future).
 */
export function birdTimeMs(hms: string, nearMs: number): number | undefined {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?$/.exec(hms);
  if (!m) return undefined;
  const day = new Date(nearMs);
  day.setHours(Number(m[1]), Number(m[2]), Number(m[3]), Number((m[4] ?? '0').padEnd(3, '0')));
  const t = day.getTime();
  return t > nearMs + 3_600_000 ? t - 86_400_000 : t;
}

/** When `show route for BLOCK all` says the route to `block` was imported from `protocol`, as BIRD printed it. */
export function parseRouteTime(text: string, protocol: string): string | undefined {
  const m = new RegExp(`\\[${protocol} (\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?)\\]`).exec(text);
  return m?.[1];
}
