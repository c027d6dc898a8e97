/**
 * What `macvlan`, `vlan` and `ipvlan` share: the container's interface is a sub-interface of a host
 * interface (the master), created directly in the container's namespace — so an ADD killed
 * half-way leaves nothing in the host's — and addressed by IPAM.
 *
 * It is created under a temporary name and renamed inside the container's namespace, as the
 * reference plugins do: Linux 6.1 (Debian 12's) refuses to create a macvlan or ipvlan in another
 * namespace under its master's own name ("File exists") — and eth0 of eth0 is the common case.
 */
import { netnsTarget, type NetnsRef } from '../../../lib/netns';
import { kernelBatch } from '../../../lib/netlink/ip-lines';
import type { PluginEnv } from '../../skel';
import { CniCode, CniError, type IpamConf, type NetConf, type Result } from '../../types';
import { configureIface, type IfaceOptions } from './configure-iface';
import {
  deleteLink,
  ipamAdd,
  ipamDel,
  ipsOn,
  kernelError,
  linkInfo,
  type LinkInfo,
  netnsExists,
  randomIfName,
  rollback,
} from './iface';

export interface SubInterfaceConf {
  readonly cniVersion: string;
  readonly master: string;
  readonly mtu?: number;
  readonly ipam?: IpamConf;
  readonly raw: NetConf;
}

/** The master, which must exist in the host namespace and carry at least the configured MTU. */
export async function masterOf(conf: SubInterfaceConf): Promise<LinkInfo> {
  const link = await linkInfo(undefined, conf.master);
  if (!link)
    throw new CniError(
      CniCode.INVALID_CONFIG,
      `master: interface ${JSON.stringify(conf.master)} does not exist in the host namespace`,
    );
  if (conf.mtu !== undefined && conf.mtu > link.mtu) {
    throw new CniError(
      CniCode.INVALID_CONFIG,
      `mtu: ${conf.mtu} is larger than master ${conf.master}'s MTU ${link.mtu}`,
    );
  }
  return link;
}

/** The device an ADD creates. */
export interface SubInterfaceLink {
  /** Default: the kernel's (an ipvlan wears its master's, whatever it is given). */
  readonly mac?: string;
  readonly mtu: number;
  /** `type KIND …` of `ip link add`. */
  readonly type: readonly string[];
}

export interface SubInterfaceAdd {
  /** The plugin, for messages. */
  readonly what: string;
  /** Runs the creation, so a plugin can turn the kernel's refusal into its own error. Default: `ip -batch`. */
  readonly create?: (line: string[]) => Promise<void>;
  /** Addresses and routes a previous plugin's result gives, used when the configuration has no `ipam` (chaining). */
  readonly given?: Result;
  /** The interface's sysctls when it gets addresses (configure-iface.ts). Default: none. */
  readonly iface?: IfaceOptions;
}

/**
 * IPAM (or the addresses `given`), then `ip link add link MASTER name IFNAME … netns NS type
 * KIND…`, then the container side.
 */
export async function addSubInterface(
  conf: SubInterfaceConf,
  env: PluginEnv,
  ns: NetnsRef,
  link: SubInterfaceLink,
  opts: SubInterfaceAdd,
): Promise<Result> {
  const undo: (() => Promise<unknown>)[] = [];
  const create = opts.create ?? ((line: string[]) => kernelBatch(undefined, [line]));
  try {
    const ipamResult = conf.ipam ? await ipamAdd(conf, env) : opts.given;
    if (conf.ipam) undo.push(() => ipamDel(conf, env));
    const tmpName = randomIfName('cnitmp');
    await create([
      'link',
      'add',
      'link',
      conf.master,
      'name',
      tmpName,
      ...(link.mac ? ['address', link.mac] : []),
      'mtu',
      String(link.mtu),
      'netns',
      netnsTarget(ns),
      'type',
      ...link.type,
    ]);
    undo.push(() => deleteLink(ns, tmpName));
    await kernelBatch(ns, [['link', 'set', 'dev', tmpName, 'name', env.ifName]]);
    undo.push(() => deleteLink(ns, env.ifName));
    await configureIface(ns, env.ifName, ipamResult ?? {}, ipamResult ? opts.iface : {});
    const mac = link.mac ?? (await linkInfo(ns, env.ifName))?.address;
    return {
      cniVersion: conf.cniVersion,
      interfaces: [{ name: env.ifName, ...(mac ? { mac } : {}), sandbox: env.netns }],
      ...(ipamResult ? { ips: ipsOn(ipamResult, 0) } : {}),
      routes: ipamResult?.routes ?? [],
      dns: conf.raw.dns ?? {},
    };
  } catch (e) {
    await rollback(undo);
    throw kernelError(`${opts.what} ADD`, e);
  }
}

/** IPAM's DEL, then the interface (gone already with its namespace, if that is gone). */
export async function delSubInterface(conf: Pick<SubInterfaceConf, 'ipam' | 'raw'>, env: PluginEnv): Promise<void> {
  await ipamDel(conf, env);
  const ns = netnsExists(env);
  if (ns) await deleteLink(ns, env.ifName);
}

/** STATUS of a sub-interface plugin: 50 without the master, 51 with the master down (its containers are cut off). */
export async function masterStatus(conf: SubInterfaceConf, what: string): Promise<void> {
  const link = await linkInfo(undefined, conf.master);
  if (!link) throw new CniError(CniCode.NOT_AVAILABLE, `${what}: master ${conf.master} does not exist`);
  if (!link.flags?.includes('UP'))
    throw new CniError(
      CniCode.NOT_AVAILABLE_LIMITED,
      `${what}: master ${conf.master} is down; its containers have no connectivity`,
    );
}
