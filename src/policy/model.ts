/**
 * NetworkPolicy as cnilab keeps it, and what a node's policy agent is handed.
 *
 * `NetworkPolicy` is the object the API server stores: Kubernetes' networking.k8s.io/v1
 * NetworkPolicy with the parts users rely on (pod selector, ingress and egress rules, peers by pod
 * selector, namespace selector and ipBlock with except, ports with endPort, protocols, policyTypes),
 * validated and defaulted by yaml.ts as the Kubernetes API server would.
 *
 * `PolicyInput` is one node's share, resolved by resolve.ts: the policies that select any of the
 * node's pods, each rule's peers as pod names and address blocks, and which policies isolate each
 * local pod in each direction. A design (design.ts; iptables, nftables, ebpf) programs exactly this
 * and nothing else feeds it. The oracle (oracle.ts) is a separate reading of the same semantics,
 * written without resolve.ts, so the probe matrix compares two independent answers.
 */
import type { Labels } from '../apiserver/model';

export type PolicyProtocol = 'tcp' | 'udp' | 'sctp';

/** A label selector: matchLabels and matchExpressions, ANDed; {} selects everything. */
export interface LabelSelector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }[];
}

/** One peer of a rule: pods (by pod and namespace selectors) or an address block. */
export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

/** One port of a rule: `port` absent = every port of the protocol; `endPort` makes a range. */
export interface PolicyPort {
  readonly protocol: PolicyProtocol;
  readonly port?: number;
  readonly endPort?: number;
}

/** One rule: `peers` absent or empty = every peer; `ports` absent or empty = every port and protocol. */
export interface PolicyRule {
  readonly peers?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}

/** A NetworkPolicy, validated and defaulted (policyTypes always set, as Kubernetes defaults it). */
export interface NetworkPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly podSelector: LabelSelector;
  readonly policyTypes: readonly ('Ingress' | 'Egress')[];
  /** `from` in Kubernetes' words. */
  readonly ingress: readonly PolicyRule[];
  /** `to` in Kubernetes' words. */
  readonly egress: readonly PolicyRule[];
}

/** "namespace/name": a policy's key everywhere (unique in the cluster). */
export const policyKey = (p: Pick<NetworkPolicy, 'name' | 'namespace'>): string => `${p.namespace}/${p.name}`;

/** The namespace every pod of a lab lives in (cnilab has one), with Kubernetes' automatic label. */
export const POD_NAMESPACE = 'default';
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

// ---- what a node's agent programs ---------------------------------------------------------------

/** A port range of a resolved rule: from..to inclusive (from === to: one port; 1..65535: every port). */
export interface PortRange {
  readonly protocol: PolicyProtocol;
  readonly from: number;
  readonly to: number;
}

/** An address block of a resolved rule: `cidr` without the blocks of `except` (each inside it). */
export interface AddressBlock {
  readonly cidr: string;
  readonly except: readonly string[];
}

/**
 * One rule resolved: its peers ('any': every address) and its ports ('any': every protocol and
 * port). A packet matches when its remote address is one of `pods`' addresses or in a block, and its
 * protocol and destination port are in one of the ranges.
 */
export interface ResolvedRule {
  readonly peers: 'any' | { readonly pods: readonly string[]; readonly blocks: readonly AddressBlock[] };
  readonly ports: 'any' | readonly PortRange[];
}

/** A policy as a node programs it: its rules for each direction it isolates (absent: it does not). */
export interface ResolvedPolicy {
  /** policyKey: "namespace/name". */
  readonly key: string;
  readonly ingress?: readonly ResolvedRule[];
  readonly egress?: readonly ResolvedRule[];
}

/** A pod of the cluster as peers name it: designs need every pod's address (and the eBPF one its labels). */
export interface PolicyPod {
  readonly name: string;
  readonly ip: string;
  readonly node: string;
  readonly labels: Labels;
}

/**
 * One of the node's pods: the policies (keys, sorted) that select it for each direction. An empty
 * list: not isolated in that direction (everything allowed). Non-empty: allowed only what one of
 * those policies' rules allows (their union), and the replies of what was allowed.
 */
export interface PolicyEndpoint {
  readonly pod: string;
  readonly ip: string;
  readonly ingress: readonly string[];
  readonly egress: readonly string[];
}

/** Everything a node's policy design programs. */
export interface PolicyInput {
  readonly node: string;
  /** The API server's revision this is at. */
  readonly revision: number;
  /** Every pod of the cluster, sorted by name. */
  readonly pods: readonly PolicyPod[];
  /** The policies selecting at least one pod of this node, sorted by key. */
  readonly policies: readonly ResolvedPolicy[];
  /** Every pod of this node, sorted by name (those with no policy too: a design may drop them). */
  readonly endpoints: readonly PolicyEndpoint[];
}
