/**
 * `macvlan`: the container's interface is a MAC VLAN of a host interface — it sits on the host's
 * physical segment with its own MAC, with no bridge and no routing hop in the host. It is created
 * directly in the container's namespace, so an ADD killed half-way leaves nothing in the host's.
 *
 *   container eth0 (macvlan) ══ master (host eth0) ── physical switch
 */
import type { CniPlugin, PluginEnv } from '../../skel';
import type { GcAttachment, Result } from '../../types';
import { checkContainerSide, containerNetns, differs, ipamPass, randomMac } from '../common/iface';
import { addSubInterface, delSubInterface, masterOf, masterStatus } from '../common/sub-interface';
import { parseMacvlanConfig, type MacvlanConf } from './config';

async function add(conf: MacvlanConf, env: PluginEnv): Promise<Result> {
  const ns = containerNetns(env);
  const m = await masterOf(conf);
  return addSubInterface(
    conf,
    env,
    ns,
    { mac: conf.mac ?? randomMac(), mtu: conf.mtu ?? m.mtu, type: ['macvlan', 'mode', conf.mode] },
    { what: 'macvlan', iface: { arpNotify: true } },
  );
}

async function check(conf: MacvlanConf, env: PluginEnv, prev: Result): Promise<void> {
  const ns = containerNetns(env);
  await ipamPass(conf, 'CHECK', env);
  const link = await checkContainerSide(ns, env, prev, 'macvlan');
  const mode = link.linkinfo?.info_data?.mode;
  if (mode !== conf.mode)
    throw differs(`${env.ifName} is in macvlan mode ${String(mode)}, the configuration says ${conf.mode}`);
}

async function status(conf: MacvlanConf, env: PluginEnv): Promise<void> {
  await masterStatus(conf, 'macvlan');
  await ipamPass(conf, 'STATUS', env);
}

/** The macvlan lives and dies with the container's namespace: only IPAM holds anything. */
async function gc(conf: MacvlanConf, env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  await ipamPass(conf, 'GC', env, valid);
}

export const macvlanPlugin: CniPlugin<MacvlanConf> = {
  parseConfig: parseMacvlanConfig,
  add,
  del: delSubInterface,
  check,
  status,
  gc,
};
