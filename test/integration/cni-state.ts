/**
 * What the CNI tests compare: a namespace's kernel state (links, kinds, MTUs, addresses and their
 * DAD flags, routes, bridge membership, the per-link sysctls plugins set — IPv6 DAD, router
 * advertisements, IPv6 on or off, arp_notify — forwarding, netfilter rules) and plugin results, with
 * what is random by design — MACs, host-side veth names, rule handles — replaced by placeholders.
 * Whether DAD is still running (an address `tentative`) is a matter of time, so it is not here: the
 * harness looks at it right after each ADD (tentativeAfterAdd).
 */
import { ipJson, runIn } from '../../src/lib/netns';
import { readNetSysctls } from '../../src/lib/sysctl';
import type { Result } from '../../src/cni/types';

interface Link {
  ifname: string;
  mtu: number;
  flags: string[];
  master?: string;
  promiscuity?: number;
  linkinfo?: {
    info_kind?: string;
    info_data?: { mode?: string; id?: number };
    info_slave_data?: { hairpin?: boolean };
  };
  addr_info?: {
    family: string;
    local: string;
    prefixlen: number;
    scope: string;
    nodad?: boolean;
    noprefixroute?: boolean;
    tentative?: boolean;
    dadfailed?: boolean;
  }[];
}

interface Route {
  dst: string;
  gateway?: string;
  dev?: string;
  scope?: string;
  prefsrc?: string;
  protocol?: string;
}

const VETH = /veth[0-9a-f]{8}/g;
const MAC = /\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/g;

export function normalizeName(name: string): string {
  return name.replace(VETH, 'veth*');
}

export interface KernelState {
  readonly links: readonly string[];
  readonly routes: readonly string[];
  /** `lo`'s disable_ipv6. */
  readonly loIpv6Off: string | undefined;
  readonly ipForward?: string;
  readonly ip6Forward?: string;
  readonly iptablesNat?: readonly string[];
  readonly nftBridge?: readonly string[];
}

/** The namespace's state as sorted, comparable lines. */
export async function kernelState(ns: string, opts: { netfilter?: boolean } = {}): Promise<KernelState> {
  // every tool at once: this runs three times per case and version
  const [links, routes4, routes6, iptables, nft] = await Promise.all([
    ipJson<Link[]>({ name: ns }, ['-d', 'addr', 'show']),
    ipJson<Route[]>({ name: ns }, ['-4', 'route', 'show', 'table', 'main']),
    ipJson<Route[]>({ name: ns }, ['-6', 'route', 'show', 'table', 'main']),
    opts.netfilter ? runIn({ name: ns }, 'iptables', ['-t', 'nat', '-S']) : undefined,
    opts.netfilter ? runIn({ name: ns }, 'nft', ['list', 'table', 'bridge', 'nat'], { check: false }) : undefined,
  ]);
  // IPv6: what plugins add, not what the kernel makes for every link (link-local, multicast)
  const routes = [...routes4, ...routes6.filter((r) => !/^(fe80:|ff00:|multicast)/.test(r.dst))];
  const named = links.filter((l) => l.ifname !== 'lo');
  const sysctls = linkSysctls(
    ns,
    named.map((l) => l.ifname),
  );
  const linkLines = named
    .map((l, i) => {
      const addrs = (l.addr_info ?? [])
        .filter((a) => a.family === 'inet' || a.scope === 'global')
        .map((a) => `${a.local}/${a.prefixlen}${a.nodad ? ' nodad' : ''}${a.noprefixroute ? ' noprefixroute' : ''}`)
        .sort();
      const kind = l.linkinfo?.info_kind ?? 'device';
      const extra = [
        l.master ? `master=${l.master}` : '',
        l.linkinfo?.info_slave_data?.hairpin ? 'hairpin' : '',
        l.linkinfo?.info_data?.mode && (kind === 'macvlan' || kind === 'ipvlan')
          ? `mode=${l.linkinfo.info_data.mode}`
          : '',
        kind === 'vlan' ? `id=${l.linkinfo?.info_data?.id}` : '',
        kind === 'bridge' && (l.promiscuity ?? 0) > 0 ? 'promisc' : '',
        l.flags.includes('UP') ? 'up' : 'down',
      ].filter(Boolean);
      return normalizeName(`${l.ifname} ${kind} mtu=${l.mtu} ${extra.join(' ')} [${addrs.join(' ')}] ${sysctls[i]}`);
    })
    .sort();
  const routeLines = routes
    .map((r) =>
      normalizeName(
        `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev} scope ${r.scope ?? 'global'}` +
          `${r.prefsrc ? ` src ${r.prefsrc}` : ''}`,
      ),
    )
    .sort();
  const [loIpv6Off, ipForward, ip6Forward] = readNetSysctls({ name: ns }, [
    'net/ipv6/conf/lo/disable_ipv6',
    'net/ipv4/ip_forward',
    'net/ipv6/conf/all/forwarding',
  ]);
  const state: { -readonly [K in keyof KernelState]: KernelState[K] } = {
    links: linkLines,
    routes: routeLines,
    loIpv6Off,
  };
  if (iptables && nft) {
    state.ipForward = ipForward;
    state.ip6Forward = ip6Forward;
    state.iptablesNat = iptables.stdout.trim().split('\n').sort();
    state.nftBridge =
      nft.code === 0
        ? nft.stdout
            .split('\n')
            .map((l) => normalizeName(l.trim()).replace(MAC, 'MAC'))
            .filter(Boolean)
        : [];
  }
  return state;
}

/** The per-link sysctls the plugins set (the reference's and cnilab's), as one `key=value …` text per link. */
const LINK_SYSCTLS = [
  'ipv6/conf/%/accept_dad',
  'ipv6/conf/%/enhanced_dad',
  'ipv6/conf/%/accept_ra',
  'ipv6/conf/%/disable_ipv6',
  'ipv4/conf/%/arp_notify',
];

function linkSysctls(ns: string, names: readonly string[]): string[] {
  const keys = names.flatMap((n) => LINK_SYSCTLS.map((k) => `net/${k.replace('%', n)}`));
  const values = readNetSysctls({ name: ns }, keys);
  return names.map((_, i) =>
    LINK_SYSCTLS.map((k, j) => `${k.split('/').pop()}=${values[i * LINK_SYSCTLS.length + j] ?? '-'}`).join(' '),
  );
}

/** The addresses of `ifName` in `ns` still in DAD (tentative) or failed by it: what an ADD left unsettled. */
export async function unsettledAddresses(ns: string, ifName: string): Promise<string[]> {
  const links = await ipJson<Link[]>({ name: ns }, ['addr', 'show', 'dev', ifName]);
  return (links[0]?.addr_info ?? [])
    .filter((a) => a.tentative || a.dadfailed)
    .map((a) => `${a.scope === 'link' ? 'link-local' : `${a.local}/${a.prefixlen}`}${a.dadfailed ? ' dadfailed' : ''}`)
    .sort();
}

/** A result with MACs and host-side veth names replaced, after checking their form. */
export function normalizeResult(r: Result | unknown): unknown {
  return JSON.parse(JSON.stringify(r), (key, value: unknown) => {
    if (key === 'mac' && typeof value === 'string')
      return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(value) ? 'MAC' : `BAD MAC ${value}`;
    if (key === 'name' && typeof value === 'string') return normalizeName(value);
    if (key === 'sandbox' && typeof value === 'string')
      return value.startsWith('/run/netns/') ? 'SANDBOX' : `BAD SANDBOX ${value}`;
    return value;
  });
}
