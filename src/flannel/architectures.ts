/**
 * Flannel, one architecture per backend: the node agent leases a subnet and runs the backend; pods
 * are attached by the `flannel` CNI meta-plugin, which reads the agent's subnet.env and delegates to
 * `bridge` with `host-local` IPAM on the node's subnet.
 */
import { join } from 'node:path';
import type { NetConfList } from '../cni/types';
import type { BackendConfig } from './subnet/model';
import type { Feature } from '../doctor/features';
import { NETWORK_NAME, type Architecture } from '../arch/architecture';
import { flannelControlPlane, placeIpsecKeys, type ConflistContext } from './control-plane';

function flannel(backend: BackendConfig, summary: string, requires: readonly string[], variant?: string): Architecture {
  return {
    name: `flannel-${backend.type}${variant ? `-${variant}` : ''}`,
    // host-gw routes pod packets as they are (pure L3: the bridge only joins a node's own pods);
    // every other backend encapsulates them.
    family: backend.type === 'host-gw' ? 'l3' : 'overlay',
    ...(variant ? { inDefaultMatrix: false } : {}),
    summary,
    requires: ['veth', 'bridge', ...requires],
    control: flannelControlPlane(backend, flannelConflist),
  };
}

/** Every flannel architecture's pods: the flannel meta-plugin, delegating to bridge and host-local. */
function flannelConflist(ctx: ConflistContext): NetConfList {
  return {
    cniVersion: '1.0.0',
    name: NETWORK_NAME,
    plugins: [
      {
        type: 'flannel',
        subnetFile: join(ctx.nodeDir, 'subnet.env'),
        dataDir: join(ctx.nodeDir, 'flannel'),
        ipFamilies: ctx.ipFamilies,
        // No masquerading anywhere in the lab: pods only talk to pods.
        delegate: {
          ipMasq: false,
          ...(ctx.ipv6Dad ? { enabledad: true } : {}),
          // the bridge's, the host ends' and the pods' GSO/GRO sizes (docs/big-tcp.md)
          ...(ctx.bigTcp ? { bigTcp: true } : {}),
          ipam: { dataDir: ctx.ipamDir },
        },
      },
    ],
  };
}

/** `arch` with pods of both families (docs/ipv6.md): its backend and configuration list carry IPv6 too. */
function dualStack(arch: Architecture): Architecture {
  return { ...arch, control: { ...arch.control, ipFamilies: [4, 6] } };
}

export const flannelHostGwArch: Architecture = {
  ...dualStack(
    flannel(
      { type: 'host-gw' },
      "flannel host-gw: bridge + routes to each peer node's pod subnet via its underlay address (IPv6's via its IPv6 one)",
      [],
    ),
  ),
  // pod packets cross the bridge and the underlay unencapsulated: BIG TCP on every device they cross
  bigTcp: true,
};
export const flannelVxlanArch = dualStack(
  flannel(
    { type: 'vxlan' },
    'flannel vxlan: bridge + kernel VXLAN (VNI 1, UDP 8472, pod MTU = underlay − 50; IPv6: flannel-v6.1, − 70)',
    ['vxlan'],
  ),
);
export const flannelUdpArch = flannel(
  { type: 'udp' },
  'flannel udp: bridge + TUN + user-space encapsulation in the agent, one packet per read/send (UDP 8285, MTU − 28)',
  ['tun'],
);
const UDP_OFFLOAD_NEEDS: readonly Feature[] = ['tun', 'tun-vnet-hdr'];
export const flannelUdpOffloadArch = flannel(
  { type: 'udp-offload' },
  'flannel udp, offloaded: the same tunnel with TUN TSO, UDP GSO/GRO, recvmmsg and coalescing — up to 64 KB per ' +
    'user/kernel crossing (UDP 8285, MTU − 28)',
  UDP_OFFLOAD_NEEDS,
);
/**
 * flannel-udp-offload with some techniques switched off (`flannel-udp-offload-without-gso-gro`):
 * how the benchmark measures what each one contributes. Not registered; run through the API.
 */
export function flannelUdpOffloadWithout(disable: readonly string[]): Architecture {
  if (disable.length === 0) return flannelUdpOffloadArch;
  return flannel(
    { type: 'udp-offload', disable },
    `flannel udp-offload without ${disable.join(', ')}`,
    UDP_OFFLOAD_NEEDS,
    `without-${disable.join('-')}`,
  );
}
/**
 * flannel's wireguard backend: the node's WireGuard device is the tunnel; run by name (its user-space
 * implementation, where the kernel has no WireGuard, is slow enough to stretch the default run).
 */
export const flannelWireguardArch: Architecture = {
  ...flannel(
    { type: 'wireguard' },
    'flannel wireguard: bridge + one WireGuard device per node, peers keyed by lease (UDP 51820, MTU − 80)',
    ['wireguard'],
  ),
  family: 'overlay',
  inDefaultMatrix: false,
  encryption: { design: 'wireguard', wire: { proto: 'udp', port: 51820 }, twin: 'flannel-host-gw' },
};
/**
 * IPsec as Cilium does it (static key, ESP tunnels by xfrm; backends/ipsec.ts), on flannel's leases
 * and host-gw's routes. The cluster key is made once per lab and placed in each node's folder
 * before its agent starts (at `up` and at each join).
 */
export const flannelIpsecArch: Architecture = {
  ...flannel(
    { type: 'ipsec' },
    "flannel ipsec: bridge + host-gw's routes, encrypted by xfrm ESP tunnels between nodes (one static key, " +
      'AES-GCM, Cilium’s design; MTU − 57)',
    ['ipsec'],
  ),
  family: 'overlay',
  inDefaultMatrix: false,
  control: flannelControlPlane({ type: 'ipsec' }, flannelConflist, { prepare: placeIpsecKeys }),
  encryption: { design: 'ipsec', wire: { proto: 'esp' }, twin: 'flannel-host-gw' },
};
/** vxlan with DirectRouting: peers on the same underlay segment get a plain route (here: all of them). */
export const flannelVxlanDirectArch = flannel(
  { type: 'vxlan', directRouting: true },
  'flannel vxlan with DirectRouting: host-gw routes to peers on the same segment, VXLAN to the others',
  ['vxlan'],
  'direct',
);
