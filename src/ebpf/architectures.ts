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
 *   ebpf-netkit   ebpf-native with each pod on a netkit pair in L3 mode instead of a veth (Linux
 *                 6.7+; Cilium's default device since 1.16 on kernels that have it): from_netkit is
 *                 the pair's own program for what the pod sends, run in the pod end's transmit —
 *                 no backlog queue, no host end's receive. Runs by name (not in the default
 *                 matrix); skipped with the netkit probe's reason on kernels without netkit.
 *
 *     pod eth0 ─netkit(from_netkit: fib lookup, redirect)⟶ eth0 ══ switch ══ eth0 ⟶(from_netdev: redirect_peer)⟶ pod eth0
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

export const ebpfNetkitArch: Architecture = {
  name: 'ebpf-netkit',
  summary:
    'eBPF (Cilium-style) native routing with pods on netkit pairs (L3 mode) instead of veths: the pair runs ' +
    "the pod's program in its own transmit routine — no backlog queue; Linux 6.7+",
  family: 'l3',
  requires: ['netkit', 'ebpf'],
  bigTcp: true,
  inDefaultMatrix: false,
  control: ebpfControlPlane({ type: 'host-gw' }, { device: 'netkit' }),
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
