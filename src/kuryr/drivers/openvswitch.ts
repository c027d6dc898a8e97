/**
 * The `openvswitch` mechanism driver, as Neutron's OVS agent lays a node out:
 *
 *   pod eth0 ══ tapXXXX ─┬─ br-int ─┬─ vx<VNI>-<peer> … (VXLAN: a tunnel port per network and peer, key = VNI)
 *                        │          └─ int-br-phy ══ phy-br-int ─ br-phy ─ eth0 (VLAN: a trunk of the VLAN networks' IDs)
 *                 tag = local VLAN
 *
 * Every port on br-int is an access port tagged with its network's local VLAN: the VLAN ID itself
 * for a VLAN network, one picked from 4000 downwards for a VXLAN network (kept in br-int's
 * external_ids, so a restarted daemon finds the same). The patch to br-phy trunks only the VLAN
 * networks' IDs, so a VXLAN network's local tag never reaches the wire. Tunnel ports are
 * `protected`: OVS never floods from one tunnel into another (split horizon, as Neutron's br-tun
 * flow tables do), so a full mesh cannot loop.
 *
 * br-phy holds the node's underlay address: the userspace (netdev) datapath sends tunnel packets
 * through the bridge that owns the route to the remote. With the kernel datapath the layout is the
 * same. Each node runs its own ovsdb-server and ovs-vswitchd (started by the lab); every command
 * here goes to that database's socket.
 */
import { run } from '../../lib/exec';
import { ip, ipJson } from '../../lib/netns';
import type { Agent, Network, Port } from '../neutron/model';
import type { MechanismDriver } from './driver';
import { IANA_VXLAN_PORT } from '../../lib/vxlan';

export type OvsDatapath = 'netdev' | 'system';

export interface OvsOptions {
  /** ovsdb-server's socket. */
  readonly db: string;
  readonly datapath: OvsDatapath;
  readonly uplink: string;
  /** The node's underlay address with its prefix, e.g. 198.18.0.2/24. */
  readonly underlay: string;
  /**
   * netdev only: ovs-vswitchd runs with userspace TSO (set by the lab before it starts), so
   * veths keep their offloads. OVS 3.1 cannot segment into tunnels: VLAN networks only.
   */
  readonly userspaceTso?: boolean;
}

const INT = 'br-int';
const PHY = 'br-phy';
const PATCH_INT = 'int-br-phy';
const PATCH_PHY = 'phy-br-int';
const LOCAL_VLAN_TOP = 4000;

/** A tunnel port's name: `vx` + VNI in hex + `-` + the peer's last two underlay octets in hex (≤ 15 characters). */
export function tunnelPortName(vni: number, peerIp: string): string {
  const [, , c, d] = peerIp.split('.').map(Number);
  return `vx${vni.toString(16)}-${((c! << 8) | d!).toString(16).padStart(4, '0')}`;
}

export class OpenvswitchDriver implements MechanismDriver {
  readonly name = 'openvswitch' as const;
  readonly datapath: string;
  /** network ID → local VLAN on br-int. */
  private localVlans = new Map<string, number>();

  constructor(private readonly o: OvsOptions) {
    this.datapath = ovsDatapathName(o.datapath, o.userspaceTso ?? false);
  }

  /** One ovs-vsctl run; `cmds` are joined with `--`. */
  private async vsctl(...cmds: (readonly string[])[]): Promise<string> {
    const args = ['--db=unix:' + this.o.db, '--timeout=20'];
    cmds.forEach((c, i) => args.push(...(i > 0 ? ['--'] : []), ...c));
    return (await run('ovs-vsctl', args)).stdout;
  }

  async setup(): Promise<void> {
    const dp = ['set', 'bridge'];
    await this.vsctl(
      ['--may-exist', 'add-br', INT],
      [...dp, INT, `datapath_type=${this.o.datapath}`],
      ['--may-exist', 'add-br', PHY],
      [...dp, PHY, `datapath_type=${this.o.datapath}`],
      ['--may-exist', 'add-port', PHY, this.o.uplink],
    );
    // Without TSO the userspace datapath reads and writes whole frames: checksums must be complete.
    if (this.needsOffloadOff) await offloadOff(undefined, this.o.uplink);
    // The underlay address moves to br-phy (a restart finds it there already).
    const onUplink = await addressesOf(this.o.uplink);
    if (onUplink.includes(this.o.underlay)) await ip(undefined, ['addr', 'del', this.o.underlay, 'dev', this.o.uplink]);
    if (!(await addressesOf(PHY)).includes(this.o.underlay))
      await ip(undefined, ['addr', 'add', this.o.underlay, 'dev', PHY]);
    await ip(undefined, ['link', 'set', PHY, 'up']);
    await ip(undefined, ['link', 'set', INT, 'up']);
    // The node's own packets (to the controller) leave through br-phy's tap: finished checksums there too.
    if (this.o.datapath === 'netdev') await offloadOff(undefined, PHY);
    const ids = await this.vsctl(['br-get-external-id', INT]);
    for (const line of ids.split('\n')) {
      const m = /^cnilab-net-([0-9a-f-]+)=(\d+)$/.exec(line.trim());
      if (m) this.localVlans.set(m[1]!, Number(m[2]));
    }
  }

  async wire(networks: readonly Network[], peers: readonly Agent[]): Promise<string[]> {
    const cmds: string[][] = [];
    // Local VLANs: a VLAN network's own ID; a VXLAN network's from 4000 down, clear of every VLAN ID.
    const vlanIds = new Set(networks.filter((n) => n.segmentationType === 'vlan').map((n) => n.segmentationId));
    for (const id of [...this.localVlans.keys()])
      if (!networks.some((n) => n.id === id)) {
        this.localVlans.delete(id);
        cmds.push(['br-set-external-id', INT, `cnilab-net-${id}`]);
      }
    for (const n of networks) {
      if (n.segmentationType === 'vlan') {
        this.localVlans.set(n.id, n.segmentationId);
        continue;
      }
      const mine = this.localVlans.get(n.id);
      if (mine !== undefined && !vlanIds.has(mine)) continue;
      const taken = new Set([...vlanIds, ...[...this.localVlans].filter(([k]) => k !== n.id).map(([, v]) => v)]);
      let tag = LOCAL_VLAN_TOP;
      while (taken.has(tag)) tag--;
      this.localVlans.set(n.id, tag);
      cmds.push(['br-set-external-id', INT, `cnilab-net-${n.id}`, String(tag)]);
    }
    // Tunnels: one per VXLAN network and peer.
    const want = new Map<string, string[]>();
    for (const n of networks.filter((x) => x.segmentationType === 'vxlan')) {
      for (const p of peers) {
        const port = tunnelPortName(n.segmentationId, p.underlayIp);
        want.set(port, [
          'add-port',
          INT,
          port,
          `tag=${this.localVlans.get(n.id)}`,
          'protected=true',
          '--',
          'set',
          'interface',
          port,
          'type=vxlan',
          `options:remote_ip=${p.underlayIp}`,
          `options:local_ip=${this.o.underlay.split('/')[0]}`,
          `options:key=${n.segmentationId}`,
          `options:dst_port=${IANA_VXLAN_PORT}`,
        ]);
      }
    }
    const have = (await this.vsctl(['list-ports', INT])).split('\n').filter(Boolean);
    for (const p of have)
      if (/^vx[0-9a-f]+-[0-9a-f]{4}$/.test(p) && !want.has(p)) cmds.push(['--if-exists', 'del-port', INT, p]);
    for (const [p, add] of want) if (!have.includes(p)) cmds.push(add);
    // The VLAN trunk: only while there are VLAN networks (an empty trunk list would mean every VLAN).
    if (vlanIds.size > 0) {
      const trunks = `trunks=[${[...vlanIds].sort((a, b) => a - b).join(',')}]`;
      cmds.push(
        ['--may-exist', 'add-port', INT, PATCH_INT],
        ['set', 'interface', PATCH_INT, 'type=patch', `options:peer=${PATCH_PHY}`],
        ['set', 'port', PATCH_INT, trunks],
      );
      cmds.push(
        ['--may-exist', 'add-port', PHY, PATCH_PHY],
        ['set', 'interface', PATCH_PHY, 'type=patch', `options:peer=${PATCH_INT}`],
        ['set', 'port', PATCH_PHY, trunks],
      );
    } else {
      cmds.push(['--if-exists', 'del-port', INT, PATCH_INT], ['--if-exists', 'del-port', PHY, PATCH_PHY]);
    }
    if (cmds.length > 0) await this.vsctl(...cmds);
    return networks.map((n) => n.id);
  }

  private get needsOffloadOff(): boolean {
    return this.o.datapath === 'netdev' && !this.o.userspaceTso;
  }

  async prepareVeth(hostIf: string, podNetns: string, podIf: string): Promise<void> {
    if (!this.needsOffloadOff) return;
    await offloadOff(undefined, hostIf);
    await offloadOff(podNetns, podIf);
  }

  async plug(hostIf: string, port: Port, network: Network): Promise<void> {
    const tag = this.localVlans.get(network.id);
    if (tag === undefined) throw new Error(`network ${network.name} is not wired on this node yet`);
    await this.vsctl(
      ['--may-exist', 'add-port', INT, hostIf, `tag=${tag}`],
      [
        'set',
        'interface',
        hostIf,
        `external_ids:iface-id=${port.id}`,
        `external_ids:attached-mac=${port.macAddress}`,
        'external_ids:iface-status=active',
      ],
    );
  }

  async unplug(hostIf: string): Promise<void> {
    await this.vsctl(['--if-exists', 'del-port', INT, hostIf]);
  }
}

export function ovsDatapathName(datapath: OvsDatapath, userspaceTso: boolean): string {
  return datapath === 'system'
    ? 'openvswitch system (kernel)'
    : `openvswitch netdev (userspace${userspaceTso ? ', TSO' : ''})`;
}

async function addressesOf(dev: string): Promise<string[]> {
  const links = await ipJson<{ addr_info?: { family: string; local: string; prefixlen: number }[] }[]>(undefined, [
    'addr',
    'show',
    'dev',
    dev,
  ]).catch(() => []);
  return (links[0]?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

/** Transmit checksum offload off (and with it TSO): ovs-vswitchd's AF_PACKET sockets see finished frames. */
export async function offloadOff(netns: string | undefined, dev: string): Promise<void> {
  const args = ['-K', dev, 'tx', 'off'];
  await (netns ? run('ip', ['netns', 'exec', netns, 'ethtool', ...args]) : run('ethtool', args));
}
