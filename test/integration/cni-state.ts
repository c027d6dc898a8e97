/**
 * What the CNI tests compare: a namespace's kernel state (links, kinds, MTUs, addresses, routes,
 * bridge membership, netfilter rules) and plugin results, with what is random by design — MACs,
 * host-side veth names, rule handles — replaced by placeholders.
 */
import { ipJson, runIn } from '../../src/lib/netns';
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
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
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
  readonly ipForward?: string;
  readonly iptablesNat?: readonly string[];
  readonly nftBridge?: readonly string[];
}

/** The namespace's state as sorted, comparable lines. */
export async function kernelState(ns: string, opts: { netfilter?: boolean } = {}): Promise<KernelState> {
  const links = await ipJson<Link[]>({ name: ns }, ['-d', 'addr', 'show']);
  const routes = [
    ...(await ipJson<Route[]>({ name: ns }, ['-4', 'route', 'show', 'table', 'main'])),
    // IPv6: what plugins add, not what the kernel makes for every link (link-local, multicast)
    ...(await ipJson<Route[]>({ name: ns }, ['-6', 'route', 'show', 'table', 'main'])).filter(
      (r) => !/^(fe80:|ff00:|multicast)/.test(r.dst),
    ),
  ];
  const linkLines = links
    .filter((l) => l.ifname !== 'lo')
    .map((l) => {
      const addrs = (l.addr_info ?? [])
        .filter((a) => a.family === 'inet' || a.scope === 'global')
        .map((a) => `${a.local}/${a.prefixlen}`)
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
      return normalizeName(`${l.ifname} ${kind} mtu=${l.mtu} ${extra.join(' ')} [${addrs.join(' ')}]`);
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
  const state: { -readonly [K in keyof KernelState]: KernelState[K] } = { links: linkLines, routes: routeLines };
  if (opts.netfilter) {
    state.ipForward = (await runIn({ name: ns }, 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim();
    state.iptablesNat = (await runIn({ name: ns }, 'iptables', ['-t', 'nat', '-S'])).stdout.trim().split('\n').sort();
    const nft = await runIn({ name: ns }, 'nft', ['list', 'table', 'bridge', 'nat'], { check: false });
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
