/**
 * Addressing the container's interface from an IPAM result, as the reference plugins (v1.1.1,
 * pkg/ipam/ipam_linux.go ConfigureIface) do — including what they do about IPv6 duplicate address
 * detection (DAD), so that an attach costs what it costs with them:
 *
 * 1. the plugin's sysctls on the interface: `arp_notify` (macvlan, ipvlan, bridge) and, for bridge
 *    only, DAD — `accept_dad=0` (the reference's default), or `enhanced_dad=1 accept_dad=1` with
 *    `enabledad`; ptp, macvlan, ipvlan and vlan leave DAD as the namespace has it (on, by the
 *    kernel's default). Best effort, as the reference's: a kernel without the key goes on.
 * 2. IPv6 switched on (`disable_ipv6=0`) on `lo` and the interface, when an IPv6 address is coming;
 * 3. the addresses, then the link up;
 * 4. when an IPv6 address has a gateway: a wait until no address on the link is tentative (DAD
 *    running) or failed DAD, polled every 50 ms for up to 10 s, then on whatever the outcome (the
 *    reference's SettleAddresses, whose error v1.1.1 ignores). With DAD on this is 1–2 s of the
 *    attach; with it off, nothing is tentative and the wait ends at once;
 * 5. the routes, each via its own gateway or else the first gateway of its family.
 */
import type { NetnsRef } from '../../../lib/netns';
import { kernelBatch } from '../../../lib/netlink/ip-lines';
import { withRtnl } from '../../../lib/netlink/rtnl';
import { readNetSysctls, writeNetSysctls } from '../../../lib/sysctl';
import type { ResultIp, ResultRoute } from '../../types';

/** What a plugin does about DAD on the container's interface: off, on (enhanced), or the namespace's setting. */
export type DadChoice = 'off' | 'on' | 'namespace';

export interface IfaceOptions {
  /** Default: 'namespace' (the kernel's, on). */
  readonly dad?: DadChoice;
  /** `net.ipv4.conf.IF.arp_notify=1`: a gratuitous ARP when the link comes up or changes address. Default: false. */
  readonly arpNotify?: boolean;
}

const v6 = (address: string): boolean => address.includes(':');

/** The sysctls a plugin sets on the container's interface before addressing it (step 1), in order. */
export function ifaceSysctls(ifName: string, opts: IfaceOptions): [string, string][] {
  const out: [string, string][] = [];
  if (opts.dad === 'off') out.push([`net/ipv6/conf/${ifName}/accept_dad`, '0']);
  if (opts.dad === 'on')
    out.push([`net/ipv6/conf/${ifName}/enhanced_dad`, '1'], [`net/ipv6/conf/${ifName}/accept_dad`, '1']);
  if (opts.arpNotify) out.push([`net/ipv4/conf/${ifName}/arp_notify`, '1']);
  return out;
}

/** Whether ADD waits for DAD to end (step 4): an IPv6 address with a gateway. */
export function waitsForDad(ips: readonly ResultIp[]): boolean {
  return ips.some((a) => v6(a.address) && a.gateway !== undefined && v6(a.gateway));
}

/** Whether a link's addresses are settled: none tentative, none that failed DAD. */
export function settled(addrs: readonly { readonly tentative?: boolean; readonly dadfailed?: boolean }[]): boolean {
  return addrs.every((a) => !a.tentative && !a.dadfailed);
}

/** `ip` lines for step 3: the addresses (DAD as the interface's sysctls say), then the link up. */
export function addressLines(ifName: string, ips: readonly ResultIp[]): string[][] {
  return [...ips.map((a) => ['addr', 'add', a.address, 'dev', ifName]), ['link', 'set', 'dev', ifName, 'up']];
}

/** `ip` lines for step 5: each route via its gateway, or the first gateway of its family. */
export function routeLines(ifName: string, ips: readonly ResultIp[], routes: readonly ResultRoute[]): string[][] {
  return routes.map((r) => {
    const gw = r.gw ?? ips.find((a) => a.gateway && v6(a.gateway) === v6(r.dst))?.gateway;
    return ['route', 'add', r.dst, ...(gw ? ['via', gw] : []), 'dev', ifName, ...(r.mtu ? ['mtu', String(r.mtu)] : [])];
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Step 4: polls the link until its addresses are settled or `timeoutMs` passes; whether they settled. */
export async function settleAddresses(ns: NetnsRef, ifName: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const link = withRtnl(ns, (nl) => nl.link(ifName, { addrs: true }));
    if (!link || settled(link.addr_info ?? [])) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

/** Steps 1–3: sysctls, IPv6 on where it is off, addresses, link up. */
function prepare(ns: NetnsRef, ifName: string, ips: readonly ResultIp[], opts: IfaceOptions): Promise<void> {
  writeNetSysctls(ns, ifaceSysctls(ifName, opts), { bestEffort: true });
  if (ips.some((a) => v6(a.address))) {
    const keys = ['lo', ifName].map((i) => `net/ipv6/conf/${i}/disable_ipv6`);
    const now = readNetSysctls(ns, keys);
    writeNetSysctls(
      ns,
      keys.filter((_, i) => now[i] !== undefined && now[i] !== '0').map((k) => [k, '0'] as [string, string]),
    );
  }
  return kernelBatch(ns, addressLines(ifName, ips));
}

/** Steps 1–5 on interface `ifName` of namespace `ns`. */
export async function configureIface(
  ns: NetnsRef,
  ifName: string,
  ipam: { readonly ips?: readonly ResultIp[]; readonly routes?: readonly ResultRoute[] },
  opts: IfaceOptions = {},
): Promise<void> {
  const ips = ipam.ips ?? [];
  await prepare(ns, ifName, ips, opts);
  if (waitsForDad(ips)) await settleAddresses(ns, ifName);
  const routes = routeLines(ifName, ips, ipam.routes ?? []);
  if (routes.length > 0) await kernelBatch(ns, routes);
}
