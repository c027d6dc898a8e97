/**
 * netkit pairs over netlink (Linux 6.7+, drivers/net/netkit.c): what `ip link add NAME type netkit
 * mode l3 peer policy drop peer name eth0 netns NS` sends in iproute2 6.7 and later — Debian 12's
 * iproute2 6.1 knows no netkit, so cnilab sends the RTM_NEWLINK itself.
 *
 * A netkit pair is a veth whose transmit routine is a BPF program: the primary end stays in the
 * node's namespace and manages the programs of both ends (bpf.ts `linkCreate` with
 * BPF_NETKIT_PRIMARY / BPF_NETKIT_PEER); the peer end is the pod's eth0. In L3 mode the pair
 * carries no link-layer addresses of its own (both MACs zero, IFF_NOARP): the pod reaches its
 * gateway without ARP or neighbour discovery. The peer's default policy `drop` lets nothing leave
 * the pod until its program is attached (as Cilium creates its pods' pairs).
 */
import { attr, ifinfomsg, IFLA, IFLA_INFO, nested, NLM_F, RTM, strAttr, u32Attr, type Rtnl } from './rtnl';

/** IFLA_INFO_DATA of a netkit device (include/uapi/linux/if_link.h, "netkit section"). */
const IFLA_NETKIT = { PEER_INFO: 1, PRIMARY: 2, POLICY: 3, PEER_POLICY: 4, MODE: 5 } as const;
const NETKIT_MODE = { l2: 0, l3: 1 } as const;
/** enum netkit_action: what an end does with a packet when no program is attached. */
const NETKIT_POLICY = { pass: 0, drop: 2 } as const;

export interface NetkitPair {
  /** The primary end, in the namespace of `nl`. */
  readonly name: string;
  readonly peer: {
    readonly name: string;
    /** An open fd of the peer's namespace: `nl` holds it, and closes it once the request is sent. */
    readonly netnsFd?: number;
  };
  readonly mtu: number;
  readonly mode?: keyof typeof NETKIT_MODE;
  /** The peer's policy with no program attached; default drop. */
  readonly peerPolicy?: keyof typeof NETKIT_POLICY;
}

/** Queues the RTM_NEWLINK that creates the pair (sent by the next flush or read of `nl`). */
export function queueNetkitAdd(nl: Rtnl, p: NetkitPair): void {
  const peer = Buffer.concat([
    ifinfomsg(0),
    strAttr(IFLA.IFNAME, p.peer.name),
    u32Attr(IFLA.MTU, p.mtu),
    ...(p.peer.netnsFd === undefined ? [] : [u32Attr(IFLA.NET_NS_FD, nl.hold(p.peer.netnsFd))]),
  ]);
  nl.queue(
    RTM.NEWLINK,
    NLM_F.CREATE | NLM_F.EXCL,
    [
      ifinfomsg(0),
      strAttr(IFLA.IFNAME, p.name),
      u32Attr(IFLA.MTU, p.mtu),
      nested(
        IFLA.LINKINFO,
        strAttr(IFLA_INFO.KIND, 'netkit'),
        nested(
          IFLA_INFO.DATA,
          u32Attr(IFLA_NETKIT.MODE, NETKIT_MODE[p.mode ?? 'l3']),
          u32Attr(IFLA_NETKIT.POLICY, NETKIT_POLICY.pass),
          u32Attr(IFLA_NETKIT.PEER_POLICY, NETKIT_POLICY[p.peerPolicy ?? 'drop']),
          attr(IFLA_NETKIT.PEER_INFO, peer),
        ),
      ),
    ],
    `link add ${p.name} type netkit peer name ${p.peer.name}`,
  );
}
