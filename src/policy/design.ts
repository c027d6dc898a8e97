/**
 * A NetworkPolicy enforcement design: how one node's data path allows and denies what the
 * policies selecting its pods say. Each design is one folder (iptables and nftables here in
 * src/policy/, Calico Felix's layouts; ebpf in the ebpf kind's folder, Cilium's), offered by the
 * architectures that can run it (ControlPlane.policy); the policy agent (src/policy/agent/) and the
 * lab only ever talk to this interface. A design is the ProxyMode contract's twin.
 */
import type { PolicyInput } from './model';

/** Where a design works: the node's namespace and a folder of its own (for ebpf: the kind's pins). */
export interface PolicyNode {
  /** The node's network namespace: every command runs in it (`ip netns exec`), never elsewhere. */
  readonly netns: string;
  /** A folder of the design's own: its last state; for ebpf, the node's folder of the kind's bpffs. */
  readonly dir: string;
  /** A bound on each command it runs, ms. Default: none. */
  readonly timeoutMs?: number;
}

/** What one sync did. */
export interface PolicySyncReport {
  readonly kind: 'full' | 'partial';
  /** Wall time of programming (the restore, the transaction, the map writes), ms. */
  readonly ms: number;
  /** Rules, set elements or map entries written or deleted. */
  readonly written: number;
}

export interface PolicyDesign {
  /** Its name in policyDataplane and in results: iptables, nftables, ebpf. */
  readonly name: string;
  /** One line for --help, `policy apply` and the report. */
  readonly summary: string;
  /** Kernel features it needs, by the doctor's names. */
  readonly requires: readonly string[];
  /**
   * The pod address families it enforces on; default: any. A lab with pods of another family does
   * not get it by default and refuses it by name (a policy must not let that family's packets
   * through unchecked).
   */
  readonly ipFamilies?: readonly (4 | 6)[];
  /**
   * Programs the node to enforce `input`. `previous` is what the last successful sync programmed
   * (undefined at start or after a failure: write everything, replacing whatever is there — an
   * agent's restart must never open a window where an isolated pod is reachable).
   */
  sync(node: PolicyNode, input: PolicyInput, previous: PolicyInput | undefined): Promise<PolicySyncReport>;
  /** Removes everything it programmed; fine when there is nothing. */
  cleanup(node: PolicyNode): Promise<void>;
  /** What runs under it, for the record: "iptables v1.8.9 (nf_tables) + ipset v7.17". */
  backend(): Promise<string>;
  /** What it programmed that is still there (tear-down asserts none). */
  leftovers(node: PolicyNode): Promise<string[]>;
}
