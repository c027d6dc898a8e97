/**
 * BIG TCP in the plugins (docs/big-tcp.md): the conf key `bigTcp: true` makes a plugin raise the GSO and
 * GRO sizes (IPv6's and IPv4's) of the devices it creates — the pod's interface and its host-side
 * end, and the node's bridge where it makes one — to BIG_TCP_SIZE, and makes CHECK verify them.
 * The MTU is left as configured. The netlink part is lib/netlink/big-tcp.ts.
 */
import { bigTcpDiffers, setBigTcp } from '../../../lib/netlink/big-tcp';
import { withRtnl } from '../../../lib/netlink/rtnl';
import type { NetnsRef } from '../../../lib/netns';
import { bool } from '../../validate';
import { differs } from './iface';

export { BIG_TCP_SIZE, setBigTcp } from '../../../lib/netlink/big-tcp';

/** The conf key, off when absent. */
export const bigTcpConf = (o: Record<string, unknown>): boolean => bool(o, 'bigTcp', 'bigTcp', false);

/** BIG TCP's sizes on the devices `names` of namespace `ns` (undefined: the plugin's own, the node's). */
export function applyBigTcp(ns: NetnsRef | undefined, names: readonly string[]): void {
  withRtnl(ns, (nl) => {
    for (const n of names) setBigTcp(nl, nl.index(n), n);
  });
}

/** CHECK: each of `names` in `ns` has BIG TCP's sizes, else CHECK fails naming the device and the size. */
export function checkBigTcp(ns: NetnsRef | undefined, names: readonly string[]): void {
  withRtnl(ns, (nl) => {
    for (const n of names) {
      const link = nl.link(n);
      if (!link) throw differs(`${n} does not exist`);
      const why = bigTcpDiffers(link);
      if (why) throw differs(why);
    }
  });
}
