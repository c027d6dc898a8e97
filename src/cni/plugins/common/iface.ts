/** What the interface plugins share: the container's namespace, links, addressing from an IPAM result. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ip, ipBatch, ipJson, netnsPath, parseNetnsPath, type NetnsRef } from '../../../lib/netns';
import { isCnilabError } from '../../../lib/errors';
import { delegate } from '../../invoke';
import type { PluginEnv } from '../../skel';
import { CniCode, CniError, type IpamConf, type Result, type ResultIp } from '../../types';

export function containerNetns(env: PluginEnv): NetnsRef {
  try {
    return parseNetnsPath(env.netns);
  } catch {
    throw new CniError(CniCode.INVALID_ENV, `CNI_NETNS ${JSON.stringify(env.netns)} must be /run/netns/NAME or /proc/PID/ns/net`);
  }
}

/** Whether the container's namespace still exists (DEL may come after it is gone). */
export function netnsExists(env: PluginEnv): NetnsRef | undefined {
  if (env.netns === '') return undefined;
  const ns = containerNetns(env);
  return existsSync(netnsPath(ns)) ? ns : undefined;
}

export interface LinkInfo {
  readonly ifname: string;
  readonly address: string;
  readonly mtu: number;
  readonly ifindex: number;
}

export async function linkInfo(ns: NetnsRef | undefined, name: string): Promise<LinkInfo | undefined> {
  try {
    const links = await ipJson<LinkInfo[]>(ns, ['link', 'show', 'dev', name]);
    return links[0];
  } catch (e) {
    if (isCnilabError(e, 'EXEC_FAILED')) return undefined;
    throw e;
  }
}

export function randomIfName(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** Deletes a link; "not found" is fine. */
export async function deleteLink(ns: NetnsRef | undefined, name: string): Promise<void> {
  await ip(ns, ['link', 'delete', 'dev', name], { check: false });
}

/** Addresses, up, and routes on the container's interface, as the IPAM result says. */
export async function configureIface(ns: NetnsRef, ifName: string, ipam: Result): Promise<void> {
  const lines: string[][] = [];
  for (const a of ipam.ips ?? []) lines.push(['addr', 'add', a.address, 'dev', ifName]);
  lines.push(['link', 'set', 'dev', ifName, 'up']);
  for (const r of ipam.routes ?? []) {
    const gw = r.gw ?? ipam.ips?.find((a) => a.gateway)?.gateway;
    lines.push(['route', 'add', r.dst, ...(gw ? ['via', gw] : []), 'dev', ifName, ...(r.mtu ? ['mtu', String(r.mtu)] : [])]);
  }
  await ipBatch(ns, lines);
}

export function ipamConf(conf: { readonly ipam?: IpamConf }): IpamConf {
  if (!conf.ipam) throw new CniError(CniCode.INVALID_CONFIG, 'ipam: is required (e.g. {"type": "host-local", ...})');
  return conf.ipam;
}

export async function ipamAdd(conf: { readonly ipam?: IpamConf }, stdin: string, env: PluginEnv): Promise<Result> {
  const r = (await delegate(ipamConf(conf).type, 'ADD', stdin, env.raw, env.path)) as Result | null;
  if (!r || !Array.isArray(r.ips) || r.ips.length === 0) throw new CniError(CniCode.IO_FAILURE, `IPAM plugin ${conf.ipam!.type} returned no IP addresses`);
  return r;
}

export async function ipamDel(conf: { readonly ipam?: IpamConf }, stdin: string, env: PluginEnv): Promise<void> {
  if (conf.ipam) await delegate(conf.ipam.type, 'DEL', stdin, env.raw, env.path);
}

/** The IPAM result's IPs, pointed at interface `index` of the plugin's result. */
export function ipsOn(ipam: Result, index: number): ResultIp[] {
  return (ipam.ips ?? []).map((a) => ({ ...a, interface: index }));
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
  return e instanceof CniError ? e : new CniError(CniCode.KERNEL_OPERATION, `${what}: ${e instanceof Error ? e.message : String(e)}`);
}
