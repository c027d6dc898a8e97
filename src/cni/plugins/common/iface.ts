/** What the interface plugins share: the container's namespace, links, addressing from an IPAM result, CHECK. */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { ipJson, netnsPath, netnsTarget, parseNetnsPath, type NetnsRef } from '../../../lib/netns';
import { deleteLinkNl } from '../../../lib/netlink/ip-lines';
import { withRtnl } from '../../../lib/netlink/rtnl';
import { isCnilabError } from '../../../lib/errors';
import { delegate } from '../../invoke';
import type { Command, PluginEnv } from '../../skel';
import {
  CniCode,
  CniError,
  VALID_ATTACHMENTS,
  type GcAttachment,
  type IpamConf,
  type NetConf,
  type Result,
  type ResultIp,
  type ResultRoute,
} from '../../types';
import { parseResult } from '../../version';

/** The container's namespace, which must exist (ADD and CHECK). */
export function containerNetns(env: PluginEnv): NetnsRef {
  let ns: NetnsRef;
  try {
    ns = parseNetnsPath(env.netns);
  } catch {
    throw new CniError(
      CniCode.INVALID_ENV,
      `CNI_NETNS ${JSON.stringify(env.netns)} must be /run/netns/NAME or /proc/PID/ns/net`,
    );
  }
  if (!existsSync(netnsPath(ns)))
    throw new CniError(CniCode.UNKNOWN_CONTAINER, `CNI_NETNS ${env.netns} does not exist`);
  return ns;
}

/** Whether the container's namespace still exists (DEL may come after it is gone). */
export function netnsExists(env: PluginEnv): NetnsRef | undefined {
  if (env.netns === '') return undefined;
  let ns: NetnsRef;
  try {
    ns = parseNetnsPath(env.netns);
  } catch {
    return undefined; // nothing of ours can be in a namespace we could not have entered
  }
  return existsSync(netnsPath(ns)) ? ns : undefined;
}

export interface LinkInfo {
  readonly ifname: string;
  readonly address: string;
  readonly mtu: number;
  readonly ifindex: number;
  readonly master?: string;
  readonly link_type?: string;
  readonly ifalias?: string;
  readonly flags?: readonly string[];
  readonly linkinfo?: {
    readonly info_kind?: string;
    readonly info_data?: Record<string, unknown>;
    readonly info_slave_data?: Record<string, unknown>;
  };
  readonly addr_info?: readonly {
    readonly family: string;
    readonly local: string;
    readonly prefixlen: number;
    readonly tentative?: true;
    readonly dadfailed?: true;
  }[];
}

/**
 * A link and its addresses, over netlink (as `ip -d -j addr show dev NAME` prints them); undefined if it or the
 * namespace is not there.
 */
export async function linkInfo(ns: NetnsRef | undefined, name: string): Promise<LinkInfo | undefined> {
  try {
    return await Promise.resolve(withRtnl(ns, (nl) => nl.link(name, { addrs: true })));
  } catch (e) {
    if (isCnilabError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}

/** Every link in a namespace (`ip -d -j link show`), over netlink. */
export function linkList(ns: NetnsRef | undefined): Promise<LinkInfo[]> {
  return Promise.resolve(withRtnl(ns, (nl) => nl.links()));
}

/** Random bytes from the kernel (node:crypto would cost a plugin ~5 ms of start-up for 10 bytes). */
function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, b, 0, n, null);
  } finally {
    closeSync(fd);
  }
  return b;
}

export function randomIfName(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** A random unicast, locally administered MAC, as the kernel picks for veths. */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Deletes a link; "not found" is fine. */
export async function deleteLink(ns: NetnsRef | undefined, name: string): Promise<void> {
  await Promise.resolve(deleteLinkNl(ns, name));
}

/** The configuration's `ipam`, validated as an object with a type. */
export function ipamOf(o: Record<string, unknown>): IpamConf | undefined {
  const v = o.ipam;
  if (v === undefined) return undefined;
  if (
    typeof v !== 'object' ||
    v === null ||
    Array.isArray(v) ||
    typeof (v as IpamConf).type !== 'string' ||
    (v as IpamConf).type === ''
  ) {
    throw new CniError(
      CniCode.INVALID_CONFIG,
      'ipam: must be an object with a "type" (e.g. {"type": "host-local", ...})',
    );
  }
  return v as IpamConf;
}

export function ipamConf(conf: { readonly ipam?: IpamConf }): IpamConf {
  if (!conf.ipam) throw new CniError(CniCode.INVALID_CONFIG, 'ipam: is required (e.g. {"type": "host-local", ...})');
  return conf.ipam;
}

/** Runs the IPAM plugin with the same stdin and environment, as the spec says delegation is done. */
export async function ipam(
  conf: { readonly ipam?: IpamConf; readonly raw: NetConf },
  command: Exclude<Command, 'VERSION'>,
  env: PluginEnv,
  extra: Record<string, unknown> = {},
): Promise<unknown> {
  const stdin = JSON.stringify({ ...conf.raw, ...extra });
  return delegate(ipamConf(conf).type, command, stdin, env.raw, env.path);
}

export async function ipamAdd(
  conf: { readonly ipam?: IpamConf; readonly raw: NetConf },
  env: PluginEnv,
): Promise<Result> {
  const out = await ipam(conf, 'ADD', env);
  const r = parseResult(out, `IPAM plugin ${conf.ipam!.type}'s result`);
  if (!r.ips || r.ips.length === 0)
    throw new CniError(CniCode.IO_FAILURE, `IPAM plugin ${conf.ipam!.type} returned no IP addresses`);
  return r;
}

export async function ipamDel(
  conf: { readonly ipam?: IpamConf; readonly raw: NetConf },
  env: PluginEnv,
): Promise<void> {
  if (conf.ipam) await ipam(conf, 'DEL', env);
}

/** STATUS, CHECK and GC pass straight through to IPAM (when there is one). */
export async function ipamPass(
  conf: { readonly ipam?: IpamConf; readonly raw: NetConf },
  command: 'STATUS' | 'CHECK' | 'GC',
  env: PluginEnv,
  valid?: readonly GcAttachment[],
): Promise<void> {
  if (conf.ipam) await ipam(conf, command, env, valid ? { [VALID_ATTACHMENTS]: valid } : {});
}

/** The IPAM result's IPs, pointed at interface `index` of the plugin's result. */
export function ipsOn(ipamResult: Result, index: number): ResultIp[] {
  return (ipamResult.ips ?? []).map((a) => ({ ...a, interface: index }));
}

/** Runs `undo` steps last first, swallowing their errors (the original failure is what matters). */
export async function rollback(undo: (() => Promise<unknown>)[]): Promise<void> {
  for (const step of undo.reverse()) {
    try {
      await step();
    } catch {
      /* best effort: keep unwinding */
    }
  }
}

export function kernelError(what: string, e: unknown): CniError {
  return e instanceof CniError
    ? e
    : new CniError(CniCode.KERNEL_OPERATION, `${what}: ${e instanceof Error ? e.message : String(e)}`);
}

/** CHECK found the container's networking different from prevResult. */
export function differs(what: string): CniError {
  return new CniError(CniCode.CHECK_FAILED, what);
}

/**
 * CHECK of the container side, as every interface plugin does it: the interface prevResult names
 * for this sandbox exists, is of `kind`, wears prevResult's MAC, and holds prevResult's addresses
 * and routes. Returns the link.
 */
export async function checkContainerSide(ns: NetnsRef, env: PluginEnv, prev: Result, kind: string): Promise<LinkInfo> {
  const index = (prev.interfaces ?? []).findIndex(
    (i) => i.name === env.ifName && i.sandbox !== undefined && i.sandbox !== '',
  );
  if (index < 0) throw differs(`prevResult has no interface ${env.ifName} in a sandbox`);
  const want = prev.interfaces![index]!;
  const link = await linkInfo(ns, env.ifName);
  if (!link) throw new CniError(CniCode.UNKNOWN_CONTAINER, `${env.ifName} does not exist in ${env.netns}`);
  if (link.linkinfo?.info_kind !== kind)
    throw differs(`${env.ifName} is a ${link.linkinfo?.info_kind ?? 'device'}, not a ${kind}`);
  if (want.mac && link.address.toLowerCase() !== want.mac.toLowerCase())
    throw differs(`${env.ifName} has MAC ${link.address}, prevResult says ${want.mac}`);
  const have = new Set((link.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
  for (const a of prev.ips ?? []) {
    if (a.interface !== undefined && a.interface !== index) continue;
    if (!have.has(a.address)) throw differs(`${env.ifName} does not hold ${a.address}`);
  }
  await checkRoutes(ns, env.ifName, prev.routes ?? [], prev.ips ?? []);
  return link;
}

async function checkRoutes(
  ns: NetnsRef,
  ifName: string,
  routes: readonly ResultRoute[],
  ips: readonly ResultIp[],
): Promise<void> {
  if (routes.length === 0) return;
  const table = [
    ...(await ipJson<{ dst: string; gateway?: string; dev?: string }[]>(ns, ['-4', 'route', 'show'])),
    ...(await ipJson<{ dst: string; gateway?: string; dev?: string }[]>(ns, ['-6', 'route', 'show'])),
  ];
  const norm = (dst: string): string =>
    dst === '0.0.0.0/0' || dst === '::/0' ? 'default' : dst.replace(/\/(32|128)$/, '');
  for (const r of routes) {
    const gw = r.gw ?? ips.find((a) => a.gateway && a.gateway.includes(':') === r.dst.includes(':'))?.gateway;
    const found = table.some(
      (t) => t.dst === norm(r.dst) && t.dev === ifName && (gw === undefined || t.gateway === gw),
    );
    if (!found) throw differs(`the route to ${r.dst}${gw ? ` via ${gw}` : ''} on ${ifName} is missing`);
  }
}

/** Attachments the runtime still uses, as a set of "containerID/ifname". */
export function attachmentKeys(valid: readonly GcAttachment[]): Set<string> {
  return new Set(valid.map((a) => `${a.containerID}/${a.ifname}`));
}

/** The alias a plugin gives a host-side link it made, naming the attachment that owns it. */
export function ownerAlias(network: string, env: PluginEnv): string {
  return `cni:${network}:${env.containerId}:${env.ifName}`;
}

/** The alias the bridge plugin gives a bridge it created: the network that made it. */
export function bridgeAlias(network: string): string {
  return `cni:${network}`;
}

/**
 * What an alias set by a cnilab plugin says: the network, and for a host-side link the attachment
 * that owns it; undefined when the alias is not one of ours. (Network names and container IDs
 * cannot hold a ':', by the spec's rules.)
 */
export function parseAlias(
  alias: string | undefined,
): { network: string; containerId?: string; ifName?: string } | undefined {
  const parts = (alias ?? '').split(':');
  if (parts[0] !== 'cni' || !parts[1]) return undefined;
  if (parts.length === 2) return { network: parts[1] };
  if (parts.length === 4 && parts[2] && parts[3]) return { network: parts[1], containerId: parts[2], ifName: parts[3] };
  return undefined;
}

/** The owner of a host-side link of `network`, from its alias; undefined when it is not one of ours. */
export function aliasOwner(link: LinkInfo, network: string): { containerId: string; ifName: string } | undefined {
  const a = parseAlias(link.ifalias);
  return a?.network === network && a.containerId && a.ifName
    ? { containerId: a.containerId, ifName: a.ifName }
    : undefined;
}

/**
 * The `ip` line that makes a veth pair in one step: the host end here, the container end created
 * directly in the container's namespace (never in this one first), both with their MAC and MTU.
 */
export function vethPairLine(
  host: { name: string; mac: string },
  container: { name: string; mac: string; netns: NetnsRef },
  mtu: number,
): string[] {
  const m = String(mtu);
  return [
    'link',
    'add',
    'name',
    host.name,
    'address',
    host.mac,
    'mtu',
    m,
    'type',
    'veth',
    'peer',
    'name',
    container.name,
    'address',
    container.mac,
    'mtu',
    m,
    'netns',
    netnsTarget(container.netns),
  ];
}
