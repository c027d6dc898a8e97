/**
 * The Calico architectures: pods on veths with no bridge, proxy ARP for their link-local gateway,
 * a /32 route per pod; IPAM by /26 blocks affine to nodes (src/calico/ipam); an agent per node
 * (Felix's role).
 *
 *   calico-bgp    no encapsulation: each node announces its blocks to the others over iBGP (BIRD 2,
 *                 full mesh); the kernel forwards pod packets as they are. Family l3.
 *
 *     pod eth0 ─veth─ caliX ⟶(route BLOCK via PEER, from BGP)⟶ eth0 ══ switch ══ eth0 ⟶(POD/32 dev caliY)⟶ pod
 *
 *   calico-ipip   Calico's IP-in-IP mode: BGP as calico-bgp, the peers' blocks routed via their underlay
 *                 addresses on tunl0 (onlink), MTU underlay − 20. Overlay; needs the ipip module.
 *
 *   calico-wireguard  calico-bgp with Calico's WireGuard mode (agent/wireguard.ts). Family overlay: WireGuard
 *                 wraps the pods' packets between nodes in UDP, routed into it by rule and table.
 *
 *   calico-vxlan  Calico's VXLAN mode: the device vxlan.calico (VNI 4096, UDP 4789, MTU underlay − 50),
 *                 each peer's blocks routed via its tunnel address, programmed by the agent. Overlay.
 */
import type { Architecture } from '../arch/architecture';
import { calicoControlPlane } from './control-plane';

export const calicoBgpArch: Architecture = {
  name: 'calico-bgp',
  summary:
    'Calico (BGP): veths without a bridge, proxy ARP, a /32 route per pod; /26 IPAM blocks announced over iBGP by ' +
    'BIRD (full mesh), no encapsulation',
  family: 'l3',
  requires: ['veth', 'bird'],
  bigTcp: true,
  // IPv6 and dual-stack: /122 blocks over a second BGP mesh on the IPv6 underlay (bird.ts). The
  // other modes stay IPv4 (their tunnels and WireGuard routing are IPv4 here).
  control: calicoControlPlane('bgp', { ipFamilies: [4, 6] }),
};

export const calicoVxlanArch: Architecture = {
  name: 'calico-vxlan',
  summary:
    "Calico (VXLAN): the same pods and IPAM blocks; each peer's blocks routed over vxlan.calico (VNI 4096, UDP " +
    '4789, MTU − 50)',
  family: 'overlay',
  requires: ['veth', 'vxlan'],
  control: calicoControlPlane('vxlan'),
};

export const calicoIpipArch: Architecture = {
  name: 'calico-ipip',
  summary:
    "Calico (IP-in-IP): the same pods, IPAM blocks and BGP mesh; each peer's blocks routed via its underlay " +
    'address on tunl0 (MTU − 20)',
  family: 'overlay',
  requires: ['veth', 'bird', 'ipip'],
  // Needs a module most hosts load only on demand (and loading it makes tunl0 in every namespace): run it by name.
  inDefaultMatrix: false,
  control: calicoControlPlane('ipip'),
};

export const calicoWireguardArch: Architecture = {
  name: 'calico-wireguard',
  summary:
    "Calico (BGP) with WireGuard: calico-bgp's pods and mesh; pod packets to other nodes routed (rule 99, table 1) " +
    'into wireguard.cali, each peer keyed by its registered public key (UDP 51820, MTU − 60)',
  // WireGuard wraps every packet between nodes in UDP: an overlay on the wire, as flannel-wireguard is.
  family: 'overlay',
  requires: ['veth', 'bird', 'wireguard'],
  // wireguard-go, where the kernel has no WireGuard, would stretch the default run: run it by name.
  inDefaultMatrix: false,
  control: calicoControlPlane('bgp', { wireguard: true }),
  encryption: { design: 'wireguard', wire: { proto: 'udp', port: 51820 }, twin: 'calico-bgp' },
};
