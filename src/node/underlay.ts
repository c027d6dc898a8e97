import { CnilabError } from '../lib/errors';
import { ipJson } from '../lib/netns';

/** A node's underlay as its agent sees it: the IPv4 address (always there: the control plane's), IPv6's when set. */
export interface Underlay {
  readonly ip: string;
  /** The IPv4 address with its prefix, e.g. 198.18.0.2/24. */
  readonly cidr: string;
  /** The global IPv6 address, when the lab gave the node one (a topology with IPv6). */
  readonly ip6?: string;
  /** It with its prefix, e.g. 2001:2::2/64. */
  readonly cidr6?: string;
  readonly mtu: number;
}

/** The node's underlay interface as an agent inside the node's namespace sees it: addresses, prefixes, MTU. */
export async function underlay(iface: string): Promise<Underlay> {
  const [link] = await ipJson<
    { mtu: number; addr_info: { family: string; local: string; prefixlen: number; scope?: string }[] }[]
  >(undefined, ['addr', 'show', 'dev', iface]);
  const a = link?.addr_info.find((x) => x.family === 'inet');
  if (!link || !a) throw new CnilabError('AGENT_FAILED', `underlay interface ${iface} has no IPv4 address`);
  const a6 = link.addr_info.find((x) => x.family === 'inet6' && x.scope === 'global');
  return {
    ip: a.local,
    cidr: `${a.local}/${a.prefixlen}`,
    ...(a6 ? { ip6: a6.local, cidr6: `${a6.local}/${a6.prefixlen}` } : {}),
    mtu: link.mtu,
  };
}
