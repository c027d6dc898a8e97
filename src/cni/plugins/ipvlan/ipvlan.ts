/**
 * `ipvlan`: the container's interface is an ipvlan of a host interface — it shares the master's
 * MAC, and the kernel hands each packet to the slave that holds its destination IP address.
 * Created directly in the container's namespace, so an ADD killed half-way leaves nothing in the
 * host's. A kernel without ipvlan gets error 50 with that reason, on ADD and on STATUS.
 *
 *   l2:      container eth0 (ipvlan, master's MAC) ══ master (host eth0) ── physical switch
 *   l3, l3s: container eth0 (ipvlan, no ARP) ══ the host namespace's routes ── master ── switch
 *
 * As the reference: `master` defaults to prevResult's one interface when chained, else to the
 * interface of the host namespace's default route; without `ipam`, a chained prevResult's
 * addresses and routes are put on the interface.
 */
import { ipJson } from '../../../lib/netns';
import type { CniPlugin, PluginEnv } from '../../skel';
import { CniCode, CniError, type GcAttachment, type Result } from '../../types';
import { checkContainerSide, containerNetns, differs, ipamPass } from '../common/iface';
import { createOrLacks, kernelHas, lacks, type KernelDriver } from '../common/kernel-module';
import { addSubInterface, delSubInterface, masterOf, masterStatus } from '../common/sub-interface';
import { parseIpvlanConfig, type IpvlanConf } from './config';

const IPVLAN: KernelDriver = { module: 'ipvlan', devices: 'ipvlan devices' };

/** The master a chained ipvlan takes from prevResult: its one interface, which must have a name. */
export function chainedMaster(prev: Result): string {
  const ifs = prev.interfaces ?? [];
  if (ifs.length !== 1 || !ifs[0]!.name)
    throw new CniError(
      CniCode.INVALID_CONFIG,
      `master: not given, and prevResult names ${ifs.length} interfaces; chained, it must name exactly one to ` +
        `take as the master`,
    );
  return ifs[0]!.name;
}

/** The interface of the host namespace's default route (IPv4 first, then IPv6). */
async function defaultRouteInterface(code: number): Promise<string> {
  for (const family of ['-4', '-6']) {
    const routes = await ipJson<{ dev?: string }[]>(undefined, [family, 'route', 'show', 'default']);
    const dev = routes.find((r) => r.dev)?.dev;
    if (dev) return dev;
  }
  throw new CniError(code, 'master: not given, and the host namespace has no default route to take it from');
}

/** The master: the configuration's; else, chained, prevResult's interface; else the default route's. */
async function masterFor(
  conf: IpvlanConf,
  prev: Result | undefined,
  code: number = CniCode.INVALID_CONFIG,
): Promise<string> {
  if (conf.master) return conf.master;
  return prev ? chainedMaster(prev) : defaultRouteInterface(code);
}

/** Without `ipam`, the addresses come from a chained prevResult, which must hold some. */
function givenAddresses(conf: IpvlanConf, prev: Result | undefined): Result | undefined {
  if (conf.ipam) return undefined;
  if (prev?.ips && prev.ips.length > 0) return prev;
  throw new CniError(
    CniCode.INVALID_CONFIG,
    'ipam: is required (e.g. {"type": "host-local", ...}) unless ' +
      'chained after a plugin whose result holds IP addresses',
  );
}

async function add(conf: IpvlanConf, env: PluginEnv, prev: Result | undefined): Promise<Result> {
  const ns = containerNetns(env);
  const given = givenAddresses(conf, prev);
  const master = await masterFor(conf, prev);
  const m = await masterOf({ ...conf, master });
  return addSubInterface(
    { ...conf, master },
    env,
    ns,
    // no MAC: every ipvlan wears its master's
    { mtu: conf.mtu ?? m.mtu, type: ['ipvlan', 'mode', conf.mode] },
    { what: 'ipvlan', create: createOrLacks(IPVLAN), ...(given ? { given } : {}), iface: { arpNotify: true } },
  );
}

async function check(conf: IpvlanConf, env: PluginEnv, prev: Result): Promise<void> {
  const ns = containerNetns(env);
  await ipamPass(conf, 'CHECK', env);
  // prevResult is this plugin's own result here: only a configured master can be checked
  if (conf.master) await masterOf(conf as IpvlanConf & { master: string });
  const link = await checkContainerSide(ns, env, prev, 'ipvlan');
  const mode = link.linkinfo?.info_data?.mode;
  if (mode !== conf.mode)
    throw differs(`${env.ifName} is in ipvlan mode ${String(mode)}, the configuration says ${conf.mode}`);
}

async function status(conf: IpvlanConf, env: PluginEnv): Promise<void> {
  if (!(await kernelHas(IPVLAN))) throw lacks(IPVLAN);
  const master = await masterFor(conf, undefined, CniCode.NOT_AVAILABLE);
  await masterStatus({ ...conf, master }, 'ipvlan');
  await ipamPass(conf, 'STATUS', env);
}

/** The ipvlan lives and dies with the container's namespace: only IPAM holds anything. */
async function gc(conf: IpvlanConf, env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  await ipamPass(conf, 'GC', env, valid);
}

export const ipvlanPlugin: CniPlugin<IpvlanConf> = {
  parseConfig: parseIpvlanConfig,
  add,
  del: delSubInterface,
  check,
  status,
  gc,
};
