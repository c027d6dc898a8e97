/**
 * The physical layer: one namespace per node, a switch namespace holding a bridge, and a veth
 * from each node's eth0 to a switch port — both ends created directly in their namespaces — with
 * the topology's link emulation on both ends (link-emulation.ts). With the topology's bigTcp, BIG
 * TCP's GSO/GRO sizes on the node's eth0, its switch port and the switch's bridge (docs/big-tcp.md):
 * a node's GSO packet crosses the switch as one, as it would cross a host's NIC before segmentation.
 */
import { run } from '../lib/exec';
import { setBigTcp } from '../lib/netlink/big-tcp';
import { withRtnl } from '../lib/netlink/rtnl';
import { ipBatch } from '../lib/netns';
import { settleAll } from '../lib/settle';
import type { NodeSpec, Topology } from '../topology/schema';
import { emulateLinks } from './link-emulation';
import { nodeNetns, switchNetns, SWITCH_BRIDGE, UNDERLAY_IF } from './names';

export async function buildUnderlay(topology: Topology, signal?: AbortSignal): Promise<void> {
  const sw = switchNetns(topology.name);
  await run('ip', ['netns', 'add', sw], { signal });
  await ipBatch(
    { name: sw },
    [
      ['link', 'set', 'lo', 'up'],
      ['link', 'add', SWITCH_BRIDGE, 'mtu', String(topology.underlay.mtu), 'type', 'bridge'],
      ['link', 'set', SWITCH_BRIDGE, 'up'],
    ],
    { signal },
  );
  await plugNodes(topology.name, topology.nodes, topology.underlay, topology.ipFamilies, signal, topology.bigTcp);
}

/**
 * A node's eth0 MAC, from its underlay address (02:00 and the address's four bytes: locally
 * administered): the address's NIC, as a cloud port keeps its MAC. A node that joins with the
 * address of one that left is reached at once — the peers' neighbour entries for that address stay
 * right — instead of after their entries for the old MAC time out (tens of seconds; a real host
 * would send a gratuitous ARP, which a lab's fresh bridge port may drop before it forwards).
 */
export function underlayMac(ip: string): string {
  return ['02', '00', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/** Creates the nodes' namespaces and plugs each node's eth0 into a port of the switch, its link emulated. */
export async function plugNodes(
  lab: string,
  nodes: readonly NodeSpec[],
  underlay: Topology['underlay'],
  families: Topology['ipFamilies'],
  signal?: AbortSignal,
  bigTcp = false,
): Promise<void> {
  const mtu = String(underlay.mtu);
  const named = nodes.map((n) => ({ ...n, ns: nodeNetns(lab, n.name) }));
  await run('ip', ['-batch', '-'], { input: named.map((n) => `netns add ${n.ns}`).join('\n') + '\n', signal });
  await ipBatch(
    { name: switchNetns(lab) },
    named.flatMap((n) => [
      [
        ...['link', 'add', n.name, 'mtu', mtu, 'type', 'veth', 'peer', 'name', UNDERLAY_IF],
        ...['address', underlayMac(n.underlayIp), 'mtu', mtu, 'netns', n.ns],
      ],
      ['link', 'set', n.name, 'master', SWITCH_BRIDGE],
      ['link', 'set', n.name, 'up'],
    ]),
    { signal },
  );
  await settleAll(
    named.map((n) =>
      ipBatch(
        { name: n.ns },
        [
          ['link', 'set', 'lo', 'up'],
          ['addr', 'add', n.underlay, 'dev', UNDERLAY_IF],
          // IPv6 when a family is 6: usable at once (nodad: the lab hands out every address once)
          ...(families.includes(6) ? [['addr', 'add', n.underlay6, 'dev', UNDERLAY_IF, 'nodad']] : []),
          ['link', 'set', UNDERLAY_IF, 'up'],
        ],
        { signal },
      ),
    ),
  );
  if (bigTcp) {
    withRtnl({ name: switchNetns(lab) }, (nl) => {
      for (const dev of [SWITCH_BRIDGE, ...named.map((n) => n.name)]) setBigTcp(nl, nl.index(dev), dev);
    });
    for (const n of named) withRtnl({ name: n.ns }, (nl) => setBigTcp(nl, nl.index(UNDERLAY_IF), UNDERLAY_IF));
  }
  await emulateLinks(lab, { underlay }, nodes, underlay.mtu, signal);
}
