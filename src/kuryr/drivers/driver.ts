/**
 * A mechanism driver (the ML2 idea): how one node's datapath carries Neutron networks. The node
 * daemon asks it to wire every network towards the peer nodes, and to plug and unplug the host end
 * of a port's veth. Each driver runs inside its node's namespace.
 */
import type { Agent, Network, Port } from '../neutron/model';

export interface MechanismDriver {
  readonly name: 'openvswitch' | 'linuxbridge';
  /** What carries the packets, for the results, e.g. "openvswitch netdev (userspace)". */
  readonly datapath: string;
  /** Bridges and uplink; idempotent (a restarted daemon calls it again). */
  setup(): Promise<void>;
  /** Makes every network reachable from every peer (and nothing else); returns the networks wired. */
  wire(networks: readonly Network[], peers: readonly Agent[]): Promise<string[]>;
  /** Called once the veth exists: settings its two ends need (the pod end lives in `podNetns`). */
  prepareVeth(hostIf: string, podNetns: string, podIf: string): Promise<void>;
  /** Attaches the host end of a port's veth to the network's segment. */
  plug(hostIf: string, port: Port, network: Network): Promise<void>;
  /** Detaches it; fine when it is already gone. */
  unplug(hostIf: string): Promise<void>;
}

/** The host end of a port's veth: as Neutron names them, "tap" + the port ID's first 11 characters. */
export const hostIfName = (portId: string): string => `tap${portId.slice(0, 11)}`;
