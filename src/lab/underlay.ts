/**
 * The physical layer: one namespace per node, a switch namespace holding a bridge, and a veth
 * from each node's eth0 to a switch port — both ends created directly in their namespaces.
 */
import { run } from '../lib/exec';
import { ipBatch } from '../lib/netns';
import type { Topology } from '../topology/schema';
import { nodeNetns, switchNetns, SWITCH_BRIDGE, UNDERLAY_IF } from './names';

export async function buildUnderlay(topology: Topology, signal?: AbortSignal): Promise<void> {
  const lab = topology.name;
  const sw = switchNetns(lab);
  const nodes = topology.nodes.map((n) => ({ ...n, ns: nodeNetns(lab, n.name) }));
  await run('ip', ['-batch', '-'], { input: [sw, ...nodes.map((n) => n.ns)].map((ns) => `netns add ${ns}`).join('\n') + '\n', signal });
  const mtu = String(topology.underlay.mtu);
  await ipBatch(
    { name: sw },
    [
      ['link', 'set', 'lo', 'up'],
      ['link', 'add', SWITCH_BRIDGE, 'mtu', mtu, 'type', 'bridge'],
      ['link', 'set', SWITCH_BRIDGE, 'up'],
      ...nodes.flatMap((n) => [
        ['link', 'add', n.name, 'mtu', mtu, 'type', 'veth', 'peer', 'name', UNDERLAY_IF, 'mtu', mtu, 'netns', n.ns],
        ['link', 'set', n.name, 'master', SWITCH_BRIDGE],
        ['link', 'set', n.name, 'up'],
      ]),
    ],
    { signal },
  );
  await Promise.all(
    nodes.map((n) =>
      ipBatch(
        { name: n.ns },
        [
          ['link', 'set', 'lo', 'up'],
          ['addr', 'add', n.underlay, 'dev', UNDERLAY_IF],
          ['link', 'set', UNDERLAY_IF, 'up'],
        ],
        { signal },
      ),
    ),
  );
}
