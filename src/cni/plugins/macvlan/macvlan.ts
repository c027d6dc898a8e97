/**
 * `macvlan`: the container's interface is a MAC VLAN of a host interface — it sits on the host's
 * physical segment with its own MAC, with no bridge and no routing hop in the host. It is created
 * directly in the container's namespace, so an ADD killed half-way leaves nothing in the host's.
 *
 *   container eth0 (macvlan) ══ master (host eth0) ── physical switch
 */
import { ipBatch, netnsTarget } from '../../../lib/netns';
import type { CniPlugin, PluginEnv } from '../../skel';
import { CniCode, CniError, type GcAttachment, type Result } from '../../types';
import { checkContainerSide, containerNetns, deleteLink, differs, ifaceLines, ipamAdd, ipamDel, ipamPass, ipsOn, kernelError, linkInfo, type LinkInfo, netnsExists, randomMac, rollback } from '../common/iface';
import { parseMacvlanConfig, type MacvlanConf } from './config';

async function master(conf: MacvlanConf): Promise<LinkInfo> {
  const link = await linkInfo(undefined, conf.master);
  if (!link) throw new CniError(CniCode.INVALID_CONFIG, `master: interface ${JSON.stringify(conf.master)} does not exist in the host namespace`);
  if (conf.mtu !== undefined && conf.mtu > link.mtu) {
    throw new CniError(CniCode.INVALID_CONFIG, `mtu: ${conf.mtu} is larger than master ${conf.master}'s MTU ${link.mtu}`);
  }
  return link;
}

async function add(conf: MacvlanConf, env: PluginEnv): Promise<Result> {
  const ns = containerNetns(env);
  const m = await master(conf);
  const mtu = conf.mtu ?? m.mtu;
  const mac = conf.mac ?? randomMac();
  const undo: (() => Promise<unknown>)[] = [];
  try {
    const ipamResult = conf.ipam ? await ipamAdd(conf, env) : undefined;
    if (ipamResult) undo.push(() => ipamDel(conf, env));
    await ipBatch(undefined, [['link', 'add', 'link', conf.master, 'name', env.ifName, 'address', mac, 'mtu', String(mtu), 'netns', netnsTarget(ns), 'type', 'macvlan', 'mode', conf.mode]]);
    undo.push(() => deleteLink(ns, env.ifName));
    await ipBatch(ns, ifaceLines(env.ifName, { cniVersion: conf.cniVersion, ips: ipamResult?.ips ?? [], routes: ipamResult?.routes ?? [] }));
    return {
      cniVersion: conf.cniVersion,
      interfaces: [{ name: env.ifName, mac, sandbox: env.netns }],
      ...(ipamResult ? { ips: ipsOn(ipamResult, 0) } : {}),
      routes: ipamResult?.routes ?? [],
      dns: conf.raw.dns ?? {},
    };
  } catch (e) {
    await rollback(undo);
    throw kernelError('macvlan ADD', e);
  }
}

async function del(conf: MacvlanConf, env: PluginEnv): Promise<void> {
  await ipamDel(conf, env);
  const ns = netnsExists(env);
  if (ns) await deleteLink(ns, env.ifName);
}

async function check(conf: MacvlanConf, env: PluginEnv, prev: Result): Promise<void> {
  const ns = containerNetns(env);
  await ipamPass(conf, 'CHECK', env);
  const link = await checkContainerSide(ns, env, prev, 'macvlan');
  const mode = link.linkinfo?.info_data?.mode;
  if (mode !== conf.mode) throw differs(`${env.ifName} is in macvlan mode ${String(mode)}, the configuration says ${conf.mode}`);
}

async function status(conf: MacvlanConf, env: PluginEnv): Promise<void> {
  if (!(await linkInfo(undefined, conf.master))) throw new CniError(CniCode.NOT_AVAILABLE, `macvlan: master ${conf.master} does not exist`);
  await ipamPass(conf, 'STATUS', env);
}

/** The macvlan lives and dies with the container's namespace: only IPAM holds anything. */
async function gc(conf: MacvlanConf, env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  await ipamPass(conf, 'GC', env, valid);
}

export const macvlanPlugin: CniPlugin<MacvlanConf> = { parseConfig: parseMacvlanConfig, add, del, check, status, gc };
