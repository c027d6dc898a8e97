/**
 * BIG TCP (docs/big-tcp.md): a device's GSO and GRO maximum sizes raised above 64 KiB, so TCP builds
 * and merges packets of up to BIG_TCP_SIZE bytes that cross veths, bridges and routing as one skb —
 * for IPv6 (Linux 5.19: a jumbogram, payload length 0) and IPv4 (Linux 6.3: total length 0, the
 * `_ipv4_` sizes). The MTU stays as it is: what goes on a wire is cut to it, as before; what
 * changes is how many of those segments travel through the stack as one. Set over netlink: Debian
 * 12's iproute2 6.1 knows gso_max_size and gro_max_size but not the IPv4 ones.
 */
import type { NlLink, Rtnl, SizeName } from './rtnl';

/** Cilium's BIG TCP size (its bigTCP: 192 KiB, on the pods' and the nodes' devices); what cnilab sets. */
export const BIG_TCP_SIZE = 196608;
/** The sizes' ceiling without BIG TCP (GSO_LEGACY_MAX_SIZE, the kernel's default: 64 KiB). */
export const LEGACY_MAX_SIZE = 65536;

/** Every size BIG TCP raises. */
export const BIG_TCP_SIZES: readonly SizeName[] = [
  'gso_max_size',
  'gro_max_size',
  'gso_ipv4_max_size',
  'gro_ipv4_max_size',
];

/**
 * Queues BIG TCP's sizes on the link at `index` of `nl`'s namespace (`dev` names it in an error):
 * GSO and GRO, IPv6 and IPv4, all BIG_TCP_SIZE. The caller flushes (withRtnl does). Any device
 * whose tso_max_size allows it: veth, netkit, bridge.
 */
export function setBigTcp(nl: Rtnl, index: number, dev: string): void {
  nl.setSizes(index, Object.fromEntries(BIG_TCP_SIZES.map((s) => [s, BIG_TCP_SIZE])), dev);
}

/** What differs from BIG TCP's sizes on `link`, as one line ("gso_ipv4_max_size 65536, want 196608"); undefined when none. */
export function bigTcpDiffers(link: NlLink): string | undefined {
  const off = BIG_TCP_SIZES.filter((s) => link[s] !== BIG_TCP_SIZE);
  if (!off.length) return undefined;
  return `${link.ifname} has ${off.map((s) => `${s} ${link[s] ?? 'unknown'}`).join(', ')}; BIG TCP wants ${BIG_TCP_SIZE}`;
}
