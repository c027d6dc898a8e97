/**
 * The claims cnilab checks, declared: the paper's orderings and the designs compared, each a pair
 * of architectures by name. The one file outside the registry that names architectures; the
 * engine (run/claims.ts, run/designs.ts) judges whatever is declared here and names none. A
 * pair's architectures must be registered; a pair the run did not measure is reported so
 * ("not measured") or left out.
 */
import type { PathName } from './vocabulary';

/** An ordering the paper reports: `higher` above `lower` on `path` in `test`'s primary metric. */
export interface PaperOrdering {
  readonly figure: string;
  readonly claim: string;
  readonly higher: string;
  readonly lower: string;
  readonly path: PathName;
  readonly test: string;
}

/** The paper's orderings, as pairs of cnilab's architectures (docs/measurements.md says why these). */
export const PAPER_ORDERINGS: readonly PaperOrdering[] = [
  {
    figure: 'Fig. 4',
    claim: 'the OVS overlay (VXLAN) has higher throughput than Flannel UDP',
    higher: 'kuryr-ovs-vxlan',
    lower: 'flannel-udp',
    path: 'inter-node',
    test: 'tcp',
  },
  {
    figure: 'Fig. 5',
    claim: 'native VLAN on OVS beats the OVS VXLAN overlay',
    higher: 'kuryr-ovs-vlan',
    lower: 'kuryr-ovs-vxlan',
    path: 'inter-node',
    test: 'tcp',
  },
  {
    figure: 'Fig. 5',
    claim: 'native MACVLAN beats the Flannel VXLAN overlay',
    higher: 'macvlan',
    lower: 'flannel-vxlan',
    path: 'inter-node',
    test: 'tcp',
  },
];

/** Two architectures that differ in one design choice, compared on `path`. */
export interface DesignComparison {
  /** What the pair isolates, in words. */
  readonly design: string;
  readonly a: string;
  readonly b: string;
  readonly path: PathName;
}

/**
 * The pairs: the eBPF data path against each design it replaces (docs/ebpf.md says why these); Calico's against
 * flannel's (docs/calico.md).
 */
export const DESIGN_COMPARISONS: readonly DesignComparison[] = [
  {
    design: 'eBPF host routing against a bridge and routes',
    a: 'ebpf-native',
    b: 'flannel-host-gw',
    path: 'inter-node',
  },
  {
    design: "bpf_redirect_peer against the node's bridge, between pods of one node",
    a: 'ebpf-native',
    b: 'flannel-host-gw',
    path: 'intra-node',
  },
  {
    design: 'bpf_redirect_peer against a bridge (the reference bridge plugin), between pods of one node',
    a: 'ebpf-native',
    b: 'bridge',
    path: 'intra-node',
  },
  { design: 'eBPF routing against MACVLAN', a: 'ebpf-native', b: 'macvlan', path: 'inter-node' },
  { design: 'eBPF native routing against eBPF over VXLAN', a: 'ebpf-native', b: 'ebpf-vxlan', path: 'inter-node' },
  {
    design: 'eBPF into the VXLAN device against a bridge and VXLAN (same VXLAN parameters)',
    a: 'ebpf-vxlan',
    b: 'flannel-vxlan',
    path: 'inter-node',
  },
  {
    design: 'per-pod routes learnt by BGP, no bridge, against a bridge and routes from the lease store',
    a: 'calico-bgp',
    b: 'flannel-host-gw',
    path: 'inter-node',
  },
  {
    design: 'a /32 route per pod, no bridge, against a bridge, between pods of one node',
    a: 'calico-bgp',
    b: 'flannel-host-gw',
    path: 'intra-node',
  },
  {
    design: "Calico's VXLAN (routes per block, no bridge) against a bridge and VXLAN",
    a: 'calico-vxlan',
    b: 'flannel-vxlan',
    path: 'inter-node',
  },
  // What encryption costs: each WireGuard design against its unencrypted twin (Architecture.encryption.twin), and
  // the two tunnels built alike — TUN and a UDP socket — one of which encrypts, where the kernel has no WireGuard.
  {
    design: "flannel's WireGuard backend against the same pods and subnets unencrypted (host-gw)",
    a: 'flannel-wireguard',
    b: 'flannel-host-gw',
    path: 'inter-node',
  },
  {
    design: "Calico's WireGuard mode against calico-bgp unencrypted",
    a: 'calico-wireguard',
    b: 'calico-bgp',
    path: 'inter-node',
  },
  {
    design: "WireGuard's tunnel against flannel's own user-space UDP tunnel (with wireguard-go, both TUN + UDP)",
    a: 'flannel-wireguard',
    b: 'flannel-udp',
    path: 'inter-node',
  },
  {
    design: 'IPsec (static-key ESP tunnels, xfrm) against the same pods and routes unencrypted (host-gw)',
    a: 'flannel-ipsec',
    b: 'flannel-host-gw',
    path: 'inter-node',
  },
  {
    design: 'IPsec against WireGuard, on the same flannel nodes',
    a: 'flannel-ipsec',
    b: 'flannel-wireguard',
    path: 'inter-node',
  },
  {
    design: "Calico's WireGuard (routed into the device by rule and table) against flannel's (a route per network)",
    a: 'calico-wireguard',
    b: 'flannel-wireguard',
    path: 'inter-node',
  },
];
