/**
 * The eBPF architectures, in the style of Cilium: pods on veths without a bridge, their packets
 * carried by tc eBPF programs past the nodes' IP stacks (src/ebpf/bpf/datapath.c).
 *
 *   ebpf-native   native routing: each node routes the peers' pod subnets via their underlay
 *                 addresses (host-gw's routes); from_pod looks the route up and redirects to
 *                 eth0. No bridge, no encapsulation: family l3.
 *
 *     pod eth0 ─veth─ lxc ⟶(from_pod: fib lookup, redirect)⟶ eth0 ══ switch ══ eth0 ⟶(from_netdev: redirect_peer)⟶ pod eth0
 *
 *   ebpf-vxlan    tunnel mode: the same programs, the route to a peer's subnet through flannel's
 *                 VXLAN device (VNI 1, UDP 8472, MTU underlay − 50: flannel-vxlan's parameters,
 *                 so the two compare like for like); from_tunnel delivers what it decapsulates.
 */
import type { Architecture } from '../arch/architecture';
import { ebpfControlPlane } from './control-plane';

export const ebpfNativeArch: Architecture = {
  name: 'ebpf-native',
  summary:
    'eBPF (Cilium-style): veths without a bridge; tc programs redirect pod packets past the IP stack — ' +
    "bpf_redirect_peer to local pods, fib lookup + redirect to peers' underlay addresses",
  family: 'l3',
  requires: ['veth', 'ebpf'],
  bigTcp: true,
  control: ebpfControlPlane({ type: 'host-gw' }),
};

export const ebpfVxlanArch: Architecture = {
  name: 'ebpf-vxlan',
  summary:
    "eBPF (Cilium-style) over flannel's VXLAN device (VNI 1, UDP 8472, MTU − 50): the same programs, peers " +
    'reached through the tunnel',
  family: 'overlay',
  requires: ['veth', 'vxlan', 'ebpf'],
  control: ebpfControlPlane({ type: 'vxlan' }),
};
