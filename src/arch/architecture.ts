/**
 * A data-path architecture: which agents' backend it runs and which CNI configuration its pods
 * are attached with. Everything else (nodes, switch, pods, control plane) the Lab does the same way
 * for all of them.
 */
import type { Feature } from '../doctor/features';
import type { SubnetEnv } from '../cni/plugins/flannel/subnet-env';
import type { NetConfList } from '../cni/types';
import type { BackendConfig } from '../flannel/subnet/model';

export type ArchFamily = 'baseline' | 'overlay' | 'native';

export const PATHS = ['intra-node', 'inter-node', 'routed'] as const;
export type PathName = (typeof PATHS)[number];

export interface ConflistContext {
  readonly subnetEnv: SubnetEnv;
  /** The node's folder in the lab (subnet.env, conflist, plugin state). */
  readonly nodeDir: string;
  /** host-local's data directory for this node. */
  readonly ipamDir: string;
  /** The node's underlay interface. */
  readonly underlayIf: string;
}

export interface Architecture {
  readonly name: string;
  /** One line for `cnilab run --help` and the report. */
  readonly summary: string;
  /**
   * How the report groups it, as the paper's figures do: `baseline` (no pods), `overlay` (pod
   * packets travel encapsulated between nodes) or `native` (pod packets travel as they are).
   */
  readonly family: ArchFamily;
  /** Kernel features the data path needs; a missing one makes the architecture skip. */
  readonly requires: readonly Feature[];
  /** The node agents' backend; absent for an architecture without pods (`host`). */
  readonly backend?: BackendConfig;
  /** The CNI configuration list for pods on one node. Absent: no pods. */
  conflist?(ctx: ConflistContext): NetConfList;
  /** Paths this architecture cannot carry, each with the reason. */
  readonly unsupported?: Partial<Record<PathName, string>>;
  /**
   * A Kuryr architecture: the port controller, a node daemon with this mechanism driver, and pods
   * attached by `kuryr-cni` (see arch/kuryr). Instead of `backend` and `conflist`.
   */
  readonly kuryr?: KuryrSpec;
  /** What moves the packets when it is not only the kernel (Kuryr's OVS datapath is decided at run time). */
  readonly datapath?: string;
  /** Measured by a plain `cnilab run`. Default: true; a variant says false and is run by name. */
  readonly inDefaultMatrix?: boolean;
}

export interface KuryrSpec {
  readonly driver: 'openvswitch' | 'linuxbridge';
  readonly segmentation: 'vxlan' | 'vlan';
}

/** True when the architecture attaches pods (every one but the `host` baseline). */
export function hasPods(a: Architecture): boolean {
  return a.conflist !== undefined || a.kuryr !== undefined;
}

/** The network name every architecture's configuration list uses. */
export const NETWORK_NAME = 'cnilab';
export const POD_IF = 'eth0';
export const NODE_BRIDGE = 'cni0';
