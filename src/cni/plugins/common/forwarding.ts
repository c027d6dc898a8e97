/** Forwarding in the host namespace a plugin runs in, per family, as the reference's ip.EnableForward. */

/** `net/ipv4/ip_forward` when an address is IPv4, `net/ipv6/conf/all/forwarding` when one is IPv6: each 1. */
export function forwardingSysctls(ips: readonly { readonly address: string }[]): [string, string][] {
  const out: [string, string][] = [];
  if (ips.some((a) => !a.address.includes(':'))) out.push(['net/ipv4/ip_forward', '1']);
  if (ips.some((a) => a.address.includes(':'))) out.push(['net/ipv6/conf/all/forwarding', '1']);
  return out;
}
