/**
 * The `linuxbridge` mechanism driver, as Neutron's Linux bridge agent lays a node out: one kernel
 * bridge per network, `brq` + the network ID's first 11 characters, holding the pods' veths and
 * the network's segment:
 *
 *   VXLAN: vxlan-<VNI> (kernel VXLAN device, key = VNI, UDP 4789), with one all-zero FDB entry per
 *          peer node so broadcasts reach every peer (head-end replication); MACs are learnt.
 *   VLAN:  eth0.<VLAN ID> (an 802.1Q sub-interface of the uplink) — needs the kernel's 8021q.
 *
 * The underlay address stays on the uplink.
 */
import { run } from '../../lib/exec';
import { ip, ipBatch, ipJson } from '../../lib/netns';
import { kernelBatch } from '../../lib/netlink/ip-lines';
import type { Agent, Network, Port } from '../neutron/model';
import type { MechanismDriver } from './driver';
import { IANA_VXLAN_PORT } from '../../lib/vxlan';

export const bridgeName = (networkId: string): string => `brq${networkId.slice(0, 11)}`;
const segmentName = (n: Network, uplink: string): string =>
  n.segmentationType === 'vxlan' ? `vxlan-${n.segmentationId}` : `${uplink}.${n.segmentationId}`;

interface LinkRow {
  ifname: string;
  master?: string;
  linkinfo?: { info_kind?: string };
}

export class LinuxbridgeDriver implements MechanismDriver {
  readonly name = 'linuxbridge' as const;
  readonly datapath = 'linux bridge (kernel)';

  constructor(private readonly o: { readonly uplink: string; readonly underlayIp: string }) {}

  async setup(): Promise<void> {
    await ip(undefined, ['link', 'set', this.o.uplink, 'up']);
  }

  async wire(networks: readonly Network[], peers: readonly Agent[]): Promise<string[]> {
    const links = await ipJson<LinkRow[]>(undefined, ['-d', 'link', 'show']);
    const has = (name: string): boolean => links.some((l) => l.ifname === name);
    // Networks that are gone: their bridge and segment go.
    const wanted = new Set(networks.map((n) => bridgeName(n.id)));
    const stale = links
      .filter((l) => l.ifname.startsWith('brq') && l.linkinfo?.info_kind === 'bridge' && !wanted.has(l.ifname))
      .map((l) => l.ifname);
    const staleSegments = links
      .filter((l) => l.master !== undefined && stale.includes(l.master) && /^(vxlan-\d+|.+\.\d+)$/.test(l.ifname))
      .map((l) => l.ifname);
    await ipBatch(
      undefined,
      [...staleSegments, ...stale].map((d) => ['link', 'del', d]),
      { force: true },
    );

    const lines: string[][] = [];
    for (const n of networks) {
      const br = bridgeName(n.id);
      const seg = segmentName(n, this.o.uplink);
      if (!has(br)) lines.push(['link', 'add', br, 'mtu', String(n.mtu), 'type', 'bridge'], ['link', 'set', br, 'up']);
      if (!has(seg)) {
        lines.push(
          n.segmentationType === 'vxlan'
            ? [
                'link',
                'add',
                seg,
                'mtu',
                String(n.mtu),
                'type',
                'vxlan',
                'id',
                String(n.segmentationId),
                'local',
                this.o.underlayIp,
                'dstport',
                String(IANA_VXLAN_PORT),
                'dev',
                this.o.uplink,
              ]
            : [
                'link',
                'add',
                'link',
                this.o.uplink,
                'name',
                seg,
                'mtu',
                String(n.mtu),
                'type',
                'vlan',
                'id',
                String(n.segmentationId),
              ],
          ['link', 'set', seg, 'master', br, 'up'],
        );
      }
    }
    await ipBatch(undefined, lines);
    // Head-end replication: broadcasts go to every peer, and only to peers.
    const fdb: string[][] = [];
    for (const n of networks.filter((x) => x.segmentationType === 'vxlan')) {
      const seg = segmentName(n, this.o.uplink);
      const rows = await bridgeFdb(seg);
      const have = new Set(rows.filter((r) => r.mac === '00:00:00:00:00:00' && r.dst).map((r) => r.dst!));
      const want = new Set(peers.map((p) => p.underlayIp));
      for (const d of want) if (!have.has(d)) fdb.push(['fdb', 'append', '00:00:00:00:00:00', 'dev', seg, 'dst', d]);
      for (const d of have) if (!want.has(d)) fdb.push(['fdb', 'del', '00:00:00:00:00:00', 'dev', seg, 'dst', d]);
    }
    await ipBatch(undefined, fdb, { tool: 'bridge' });
    return networks.map((n) => n.id);
  }

  async prepareVeth(): Promise<void> {
    // Kernel to kernel: offloads stay on.
  }

  async plug(hostIf: string, _port: Port, network: Network): Promise<void> {
    await kernelBatch(undefined, [['link', 'set', hostIf, 'master', bridgeName(network.id), 'up']]);
  }

  async unplug(hostIf: string): Promise<void> {
    await kernelBatch(undefined, [['link', 'set', hostIf, 'nomaster']]).catch(() => undefined);
  }
}

async function bridgeFdb(dev: string): Promise<{ mac: string; dst?: string }[]> {
  const r = await run('bridge', ['-j', 'fdb', 'show', 'dev', dev]);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as { mac: string; dst?: string }[]) : [];
}
