/**
 * `macvlan`: the container's interface is a MAC VLAN of a host interface — it sits on the host's
 * physical segment with its own MAC, with no bridge and no routing hop in the host.
 *
 *   container eth0 (macvlan) ══ master (host eth0) ── physical switch
 */
import { ip, netnsTarget } from '../../../lib/netns';
import type { CniPlugin, PluginEnv } from '../../skel';
import { CniCode, CniError, type Result } from '../../types';
import { configureIface, containerNetns, deleteLink, ipamAdd, ipamDel, ipsOn, kernelError, linkInfo, netnsExists, randomIfName, rollback } from '../common/iface';
import { parseMacvlanConfig, type MacvlanConf } from './config';

async function add(conf: MacvlanConf, env: PluginEnv): Promise<Result> {
  const ns = containerNetns(env);
  const master = await linkInfo(undefined, conf.master);
  if (!master) throw new CniError(CniCode.INVALID_CONFIG, `master: interface ${JSON.stringify(conf.master)} does not exist in the host namespace`);
  if (conf.mtu !== undefined && conf.mtu > master.mtu) {
    throw new CniError(CniCode.INVALID_CONFIG, `mtu: ${conf.mtu} is larger than master ${conf.master}'s MTU ${master.mtu}`);
  }
  const mtu = conf.mtu ?? master.mtu;
  const undo: (() => Promise<unknown>)[] = [];
  const stdin = JSON.stringify(conf.raw);
  const tmp = randomIfName('mv');
  try {
    await ip(undefined, ['link', 'add', 'link', conf.master, 'name', tmp, 'mtu', String(mtu), 'type', 'macvlan', 'mode', conf.mode]);
    undo.push(() => deleteLink(undefined, tmp));
    await ip(undefined, ['link', 'set', 'dev', tmp, 'netns', netnsTarget(ns)]);
    undo.push(() => deleteLink(ns, tmp));
    await ip(ns, ['link', 'set', 'dev', tmp, 'name', env.ifName]);
    undo.push(() => deleteLink(ns, env.ifName));

    const ipam = await ipamAdd(conf, stdin, env);
    undo.push(() => ipamDel(conf, stdin, env));
    await configureIface(ns, env.ifName, ipam);
    const link = await linkInfo(ns, env.ifName);
    return {
      cniVersion: conf.cniVersion,
      interfaces: [{ name: env.ifName, mac: link?.address ?? '', sandbox: env.netns }],
      ips: ipsOn(ipam, 0),
      routes: ipam.routes ?? [],
      dns: ipam.dns ?? {},
    };
  } catch (e) {
    await rollback(undo);
    throw kernelError('macvlan ADD', e);
  }
}

async function del(conf: MacvlanConf, env: PluginEnv): Promise<void> {
  await ipamDel(conf, JSON.stringify(conf.raw), env);
  const ns = netnsExists(env);
  if (ns) await deleteLink(ns, env.ifName);
}

export const macvlanPlugin: CniPlugin<MacvlanConf> = { parseConfig: parseMacvlanConfig, add, del };
