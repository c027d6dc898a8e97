/**
 * `static` IPAM: the addresses, routes and DNS the configuration (or the runtime) gives, as they
 * are. It holds nothing, so DEL and GC have nothing to release.
 *
 *   "ipam": { "type": "static", "addresses": [{ "address": "10.10.0.1/24", "gateway": "10.10.0.254" }],
 *             "routes": [{ "dst": "0.0.0.0/0" }], "dns": { "nameservers": ["10.10.0.53"] } }
 *
 * Addresses may also come from `runtimeConfig.ips`, `args.cni.ips` or CNI_ARGS `IP=` (with
 * `GATEWAY=`), which replace the configured ones, as in the reference plugin.
 */
import { ipFamily } from '../../../lib/ip';
import { parseJson, type CniPlugin, type PluginEnv } from '../../skel';
import { isObject, str } from '../../validate';
import { CniCode, CniError, type Dns, type Result, type ResultIp, type ResultRoute } from '../../types';
import { isCidrText, parseDns, parseRoutes } from '../common/ipam-conf';

export interface StaticConf {
  readonly cniVersion: string;
  readonly name: string;
  readonly addresses: readonly ResultIp[];
  readonly routes: readonly ResultRoute[];
  readonly dns?: Dns;
}

function invalid(field: string, what: string): CniError {
  return new CniError(CniCode.INVALID_CONFIG, `${field}: ${what}`);
}

function address(v: unknown, field: string): string {
  if (!isCidrText(v))
    throw invalid(field, `${JSON.stringify(v)} is not an address with its prefix length (e.g. 10.10.0.1/24)`);
  return v;
}

function gateway(v: unknown, field: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || ipFamily(v) === 0) throw invalid(field, `${JSON.stringify(v)} is not an IP address`);
  return v;
}

function fromList(list: unknown, field: string): ResultIp[] {
  if (!Array.isArray(list)) throw invalid(field, 'must be an array');
  return list.map((a: unknown, i) => {
    if (typeof a === 'string') return { address: address(a, `${field}[${i}]`) };
    if (!isObject(a)) throw invalid(`${field}[${i}]`, 'must be an object with "address"');
    const gw = gateway(a.gateway, `${field}[${i}].gateway`);
    return { address: address(a.address, `${field}[${i}].address`), ...(gw ? { gateway: gw } : {}) };
  });
}

export function parseStaticConfig(stdin: string, env: PluginEnv): StaticConf {
  const o = parseJson(stdin);
  if (!isObject(o.ipam)) throw invalid('ipam', 'is required and must be an object');
  const ipam = o.ipam;
  let addresses = ipam.addresses === undefined ? [] : fromList(ipam.addresses, 'ipam.addresses');
  const rc = o.runtimeConfig;
  const args = o.args;
  if (isObject(rc) && rc.ips !== undefined) addresses = fromList(rc.ips, 'runtimeConfig.ips');
  else if (isObject(args) && isObject(args.cni) && args.cni.ips !== undefined)
    addresses = fromList(args.cni.ips, 'args.cni.ips');
  const ipArg = env.cniArgs.get('IP');
  if (ipArg !== undefined) {
    const gws = env.cniArgs.get('GATEWAY')?.split(',') ?? [];
    addresses = ipArg.split(',').map((a, i) => {
      const gw = gateway(gws[i], 'CNI_ARGS GATEWAY');
      return { address: address(a, 'CNI_ARGS IP'), ...(gw ? { gateway: gw } : {}) };
    });
  }
  if (addresses.length === 0)
    throw invalid(
      'ipam.addresses',
      'is required: at least one address (or runtimeConfig.ips, args.cni.ips, CNI_ARGS IP=)',
    );
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    addresses,
    routes: parseRoutes(ipam.routes, 'ipam.routes'),
    ...(ipam.dns !== undefined ? { dns: parseDns(ipam.dns, 'ipam.dns') } : {}),
  };
}

async function add(conf: StaticConf): Promise<Result> {
  return { cniVersion: conf.cniVersion, ips: [...conf.addresses], routes: [...conf.routes], dns: conf.dns ?? {} };
}

/** Every configured address must be in prevResult. */
async function check(conf: StaticConf, _env: PluginEnv, prev: Result): Promise<void> {
  const have = new Set((prev.ips ?? []).map((i) => i.address));
  for (const a of conf.addresses)
    if (!have.has(a.address)) throw new CniError(CniCode.INVALID_CONFIG, `static: ${a.address} is not in prevResult`);
}

const nothing = async (): Promise<void> => {};

export const staticPlugin: CniPlugin<StaticConf> = {
  parseConfig: parseStaticConfig,
  add,
  del: nothing,
  check,
  status: nothing,
  gc: nothing,
};
