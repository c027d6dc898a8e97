/**
 * A Service proxy mode: how one node's data path takes a connection to a ClusterIP to an endpoint.
 * Each mode is one folder of src/proxy/ (its rules, its sync) and one line of src/proxy/index.ts;
 * the agent (src/proxy/agent/) and the lab only ever talk to this interface.
 */
import type { ProxyInput } from './model';

/** Where a mode works: the node's network namespace and a folder of its own it may keep state in. */
export interface ProxyNode {
  /** The node's network namespace name (its agent runs inside it; tests and tear-down enter it). */
  readonly netns: string;
  /**
   * A folder of the mode's own, for its state (its last rules; its pinned programs and maps: for a
   * mode that `pins`, a folder on a bpffs the lab mounted).
   */
  readonly dir: string;
  /**
   * A bound on each command a mode runs there, in ms (the command is killed and the sync fails
   * with it): for a measurement that must never hang. Default: none.
   */
  readonly timeoutMs?: number;
}

/** What one sync did: the figure the agent records for every change. */
export interface SyncReport {
  /** 'full' when everything was (re)written; 'partial' when only what changed was. */
  readonly kind: 'full' | 'partial';
  /** Wall time of programming the data path (the restore, the transaction, the map updates), ms. */
  readonly ms: number;
  /** How many rules, elements or map entries it wrote: the size of what changed. */
  readonly written: number;
}

export interface ProxyMode {
  /** Its name in --proxy and in results: iptables, nftables, ipvs, ebpf. */
  readonly name: string;
  /** One line for --help and the report. */
  readonly summary: string;
  /** Kernel features it needs, by the doctor's names; a missing one makes it skip, saying which. */
  readonly requires: readonly string[];
  /**
   * Where it translates: in the node's netfilter hooks (iptables, nftables, ipvs), which a packet
   * meets only if it crosses the node's IP stack; or in eBPF programs of its own at the pod's
   * interface or socket, before any of the stack — what a data path that moves pods' packets past
   * the stack (the ebpf architecture, as Cilium's eBPF host routing) can keep.
   */
  readonly translates: 'netfilter' | 'ebpf';
  /** It pins programs and maps: its folder must be on a bpffs, which the lab mounts for it. */
  readonly pins?: boolean;
  /**
   * Programs the node to match `input`. `previous` is what the last successful sync programmed
   * (undefined at start, or after a failure): a mode that updates incrementally, as its anchor
   * does, writes only the difference; otherwise it rewrites all.
   */
  sync(node: ProxyNode, input: ProxyInput, previous: ProxyInput | undefined): Promise<SyncReport>;
  /** Removes everything it programmed in the node's namespace; fine when there is nothing. */
  cleanup(node: ProxyNode): Promise<void>;
  /** What runs under it, for the record: "iptables 1.8.9 (nf_tables)", "nft v1.0.6". */
  backend(): Promise<string>;
  /** Whether anything it programs is left in the namespace (tear-down asserts there is none). */
  leftovers(node: ProxyNode): Promise<string[]>;
}
