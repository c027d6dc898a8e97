import { CnilabError } from '../lib/errors';
import { ipJson } from '../lib/netns';

/**
 * The node's underlay interface as an agent inside the node's namespace sees it: address, prefix,
 * MTU, and its global IPv6 address when it has one (an IPv6 or dual-stack lab).
 */
export async function underlay(iface: string): Promise<{ ip: string; cidr: string; mtu: number; ip6?: string }> {
  const [link] = await ipJson<{ mtu: number; addr_info: { family: string; local: string; prefixlen: number }[] }[]>(
    undefined,
    ['addr', 'show', 'dev', iface],
  );
  const a = link?.addr_info.find((x) => x.family === 'inet');
  if (!link || !a) throw new CnilabError('AGENT_FAILED', `underlay interface ${iface} has no IPv4 address`);
  const a6 = link.addr_info.find((x) => x.family === 'inet6' && !x.local.startsWith('fe80:'));
  return { ip: a.local, cidr: `${a.local}/${a.prefixlen}`, mtu: link.mtu, ...(a6 ? { ip6: a6.local } : {}) };
}
