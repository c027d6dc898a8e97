/**
 * `vlan`: the container's interface is an 802.1Q sub-interface of a host interface, tagging what
 * it sends with `vlanId`. Created directly in the container's namespace. A kernel without 802.1Q
 * (no 8021q module) gets error 50 with that reason, on ADD and on STATUS.
 *
 *   container eth0 (vlan 100) ══ master (host eth0, trunk) ── physical switch
 */
import { parseJson, type CniPlugin, type PluginEnv } from '../../skel';
import { ifName, int, str } from '../../validate';
import { CniCode, CniError, type GcAttachment, type IpamConf, type NetConf, type Result } from '../../types';
import { checkContainerSide, containerNetns, differs, ipamOf, ipamPass, randomMac } from '../common/iface';
import { addSubInterface, delSubInterface, masterOf, masterStatus } from '../common/sub-interface';
import { createOrLacks, kernelHas, lacks, type KernelDriver } from '../common/kernel-module';

export interface VlanConf {
  readonly cniVersion: string;
  readonly name: string;
  readonly master: string;
  /** 0–4094 (0 = priority tags only, as the reference allows). */
  readonly vlanId: number;
  /** Default: the master's. */
  readonly mtu?: number;
  readonly ipam?: IpamConf;
  readonly raw: NetConf;
}

export function parseVlanConfig(stdin: string): VlanConf {
  const o = parseJson(stdin);
  const vlanId = int(o, 'vlanId', 'vlanId', 0, 4094);
  if (vlanId === undefined) throw new CniError(CniCode.INVALID_CONFIG, 'vlanId: is required (0–4094)');
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    master: ifName(str(o, 'master', 'master'), 'master'),
    vlanId,
    mtu: int(o, 'mtu', 'mtu', 68, 65535),
    ipam: ipamOf(o),
    raw: o as unknown as NetConf,
  };
}

const VLAN: KernelDriver = { module: '8021q', devices: '802.1Q VLAN devices', proof: ['/proc/net/vlan'] };

async function add(conf: VlanConf, env: PluginEnv): Promise<Result> {
  const ns = containerNetns(env);
  const m = await masterOf(conf);
  return addSubInterface(
    conf,
    env,
    ns,
    { mac: randomMac(), mtu: conf.mtu ?? m.mtu, type: ['vlan', 'id', String(conf.vlanId)] },
    { what: 'vlan', create: createOrLacks(VLAN) },
  );
}

async function check(conf: VlanConf, env: PluginEnv, prev: Result): Promise<void> {
  const ns = containerNetns(env);
  await ipamPass(conf, 'CHECK', env);
  const link = await checkContainerSide(ns, env, prev, 'vlan');
  if (link.linkinfo?.info_data?.id !== conf.vlanId)
    throw differs(
      `${env.ifName} has VLAN ID ${String(link.linkinfo?.info_data?.id)}, the configuration says ${conf.vlanId}`,
    );
}

async function status(conf: VlanConf, env: PluginEnv): Promise<void> {
  if (!(await kernelHas(VLAN))) throw lacks(VLAN);
  await masterStatus(conf, 'vlan');
  await ipamPass(conf, 'STATUS', env);
}

async function gc(conf: VlanConf, env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  await ipamPass(conf, 'GC', env, valid);
}

export const vlanPlugin: CniPlugin<VlanConf> = {
  parseConfig: parseVlanConfig,
  add,
  del: delSubInterface,
  check,
  status,
  gc,
};
