/**
 * Pods as ipvlan devices of the node's eth0, sharing its MAC; the kernel picks the pod a packet
 * is for by its destination IP address. Two modes, two control planes:
 *
 * - `ipvlan` (L2 mode), like `macvlan`: the pods sit on the underlay segment and answer ARP
 *   themselves, one flat subnet (the pod network) whose addresses each node hands out from its
 *   own leased part (flannel's lease store, backend `none`).
 *
 *       pod eth0 (ipvlan l2) ══ node eth0 ── switch ── node eth0 ══ pod eth0 (ipvlan l2)
 *
 * - `ipvlan-l3` (L3 mode): a pod never ARPs; what one sends to another pod of its node is handed
 *   over inside the driver, anything else is routed by the node's namespace (the master's) and
 *   leaves by eth0; what comes in on eth0 for a pod's address goes straight to that pod. So each
 *   node's pods hold its leased subnet, and flannel's host-gw backend gives every node a route to
 *   each peer's subnet via the peer's underlay address. The pod's own routes only send the pod
 *   network to eth0 (via the subnet's .1, which needs no one to answer on a device without ARP).
 *
 *       pod eth0 (ipvlan l3) ══ node (route 10.244.2.0/24 via 198.18.0.3) eth0 ── switch ── eth0 ══ pod
 *
 * In either mode a pod cannot reach its own node's addresses through eth0 (the driver keeps
 * slaves and master apart, as macvlan does); the lab measures pod to pod only.
 */
import { familyOf, networkOf } from '../../cni/plugins/flannel/subnet-env';
import { NETWORK_NAME, type Architecture } from '../architecture';
import { flannelControlPlane } from '../../flannel/control-plane';
import { nodeRangeIpam } from '../node-range';

export const ipvlanArch: Architecture = {
  name: 'ipvlan',
  summary:
    "pods on the underlay segment as ipvlan (L2 mode) of the node's eth0, sharing its MAC; no bridge, no routing hop",
  family: 'native',
  requires: ['ipvlan'],
  // Both families, as macvlan: a range of each from the node's leased subnets (docs/ipv6.md).
  control: {
    ...flannelControlPlane({ type: 'none' }, (ctx) => ({
      cniVersion: '1.0.0',
      name: NETWORK_NAME,
      plugins: [
        {
          type: 'ipvlan',
          master: ctx.underlayIf,
          mode: 'l2',
          mtu: ctx.subnetEnv.mtu,
          ipam: nodeRangeIpam(ctx),
        },
      ],
    })),
    ipFamilies: [4, 6],
  },
};

export const ipvlanL3Arch: Architecture = {
  name: 'ipvlan-l3',
  summary:
    "pods as ipvlan (L3 mode) of the node's eth0 on the node's leased subnet; the node's namespace routes them, " +
    'host-gw routes to peers',
  family: 'l3',
  requires: ['ipvlan'],
  inDefaultMatrix: false,
  // Both families: host-gw routes each peer's IPv6 subnet via its IPv6 underlay address; an L3
  // device answers no neighbour solicitation, and needs none for its gateway (docs/ipv6.md).
  control: {
    ...flannelControlPlane({ type: 'host-gw' }, (ctx) => ({
      cniVersion: '1.0.0',
      name: NETWORK_NAME,
      plugins: [
        {
          type: 'ipvlan',
          master: ctx.underlayIf,
          mode: 'l3',
          mtu: ctx.subnetEnv.mtu,
          ipam: {
            ...nodeRangeIpam(ctx, (_f, _network, node) => networkOf(node)),
            // the pod network of each family the lab gives pods, through eth0
            routes: ctx.ipFamilies.flatMap((f) => {
              const fam = familyOf(ctx.subnetEnv, f);
              return fam ? [{ dst: fam.network }] : [];
            }),
          },
        },
      ],
    })),
    ipFamilies: [4, 6],
  },
};
