/**
 * `calico-ipam`: one address per container interface from the lab's Calico IPAM (the control
 * node's /v3 API, src/calico/ipam/api.ts), out of a block affine to this node — the store claims
 * a new block when the node's are full. The handle is NETWORK/CONTAINER/IFNAME, so a retried ADD
 * gets the address it already holds, DEL frees it, and GC frees the network's handles on this node
 * that the runtime no longer lists.
 *
 *   "ipam": { "type": "calico-ipam", "url": "http://198.18.0.1:2379", "node": "node1",
 *             "credential": "/run/cnilab/lab/nodes/node1/credential", "families": [4, 6] }
 *
 * `families` (default [4]) are the families to assign, one address each, in that order (the
 * topology's ipFamilies, first = primary): Calico's assign_ipv4/assign_ipv6, with an order.
 *
 * `credential` is the path of the node's credential file (mode 0600), read at each call and sent
 * as a bearer token: the configuration, which runtimes cache and print, never holds the token.
 */
import { httpJson, type HttpJsonOptions } from '../../../lib/http-json';
import { messageOf } from '../../../lib/errors';
import { parseJson, type CniPlugin, type PluginEnv } from '../../skel';
import { isObject, str } from '../../validate';
import { CniCode, CniError, type GcAttachment, type Result } from '../../types';

export interface CalicoIpamConf {
  readonly cniVersion: string;
  readonly name: string;
  /** The IPAM API's base URL, e.g. http://198.18.0.1:2379. */
  readonly url: string;
  /** The node whose blocks addresses come from. */
  readonly node: string;
  /** The node's credential file for the IPAM API (an absolute path). Default: none sent. */
  readonly credential?: string;
  /** The families to assign, in the result's order. Default: [4]. */
  readonly families: readonly (4 | 6)[];
}

export function parseCalicoIpamConfig(stdin: string): CalicoIpamConf {
  const o = parseJson(stdin);
  if (!isObject(o.ipam)) throw new CniError(CniCode.INVALID_CONFIG, 'ipam: is required and must be an object');
  const url = str(o.ipam, 'url', 'ipam.url');
  if (!/^http:\/\/[^/\s]+$/.test(url))
    throw new CniError(
      CniCode.INVALID_CONFIG,
      `ipam.url: ${JSON.stringify(url)} is not a base URL like http://198.18.0.1:2379`,
    );
  const node = str(o.ipam, 'node', 'ipam.node');
  if (!/^[a-z][a-z0-9-]{0,14}$/.test(node))
    throw new CniError(CniCode.INVALID_CONFIG, `ipam.node: ${JSON.stringify(node)} is not a node name`);
  const credential = o.ipam.credential;
  if (credential !== undefined && (typeof credential !== 'string' || !credential.startsWith('/')))
    throw new CniError(
      CniCode.INVALID_CONFIG,
      'ipam.credential: must be the absolute path of the node’s credential file',
    );
  const families = o.ipam.families ?? [4];
  if (
    !Array.isArray(families) ||
    families.length === 0 ||
    families.some((f) => f !== 4 && f !== 6) ||
    new Set(families).size !== families.length
  )
    throw new CniError(CniCode.INVALID_CONFIG, 'ipam.families: must be [4], [6], [4, 6] or [6, 4]');
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    url,
    node,
    families: families as (4 | 6)[],
    ...(credential !== undefined ? { credential } : {}),
  };
}

const handleOf = (network: string, containerId: string, ifName: string): string =>
  `${network}/${containerId}/${ifName}`;

/**
 * The controller's IPAM API down, restarting or failing inside (no answer, a reset connection, a 5xx):
 * CNI error 11, "try again later" — a runtime retries the ADD (DEL first, as kubelet does). A refusal
 * (4xx) is final.
 */
export function controllerUnavailable(conf: Pick<CalicoIpamConf, 'url'>, why: string): CniError {
  return new CniError(
    CniCode.TRY_AGAIN_LATER,
    `calico-ipam: the controller's IPAM API at ${conf.url} is unavailable (${why}); try again once the controller is back`,
  );
}

async function call<T>(conf: CalicoIpamConf, path: string, options: HttpJsonOptions): Promise<T> {
  let res: { status: number; body: T & { error?: string } };
  try {
    res = await httpJson<T & { error?: string }>(`${conf.url}${path}`, {
      ...options,
      ...(conf.credential ? { credential: conf.credential } : {}),
    });
  } catch (e) {
    throw controllerUnavailable(conf, messageOf(e));
  }
  if (res.status >= 500)
    throw controllerUnavailable(conf, `${path}: HTTP ${res.status}${res.body.error ? `: ${res.body.error}` : ''}`);
  if (res.status >= 300)
    throw new CniError(
      res.status === 404 || res.status === 409 ? CniCode.NO_ADDRESS : CniCode.INTERNAL,
      `calico-ipam: ${path}: ${res.body.error ?? `HTTP ${res.status}`}`,
    );
  return res.body;
}

async function add(conf: CalicoIpamConf, env: PluginEnv): Promise<Result> {
  const ips: { address: string }[] = [];
  for (const family of conf.families) {
    const a = await call<{ ip: string; block: string }>(conf, '/v3/ipam/assign', {
      method: 'POST',
      body: {
        handle: handleOf(conf.name, env.containerId, env.ifName),
        node: conf.node,
        ...(family === 6 ? { family } : {}),
      },
    });
    ips.push({ address: `${a.ip}/${family === 6 ? 128 : 32}` });
  }
  return { cniVersion: conf.cniVersion, ips, routes: [], dns: {} };
}

async function del(conf: CalicoIpamConf, env: PluginEnv): Promise<void> {
  await call(conf, '/v3/ipam/release', {
    method: 'POST',
    body: { handle: handleOf(conf.name, env.containerId, env.ifName) },
  });
}

/** The handle must still hold the address prevResult names. */
async function check(conf: CalicoIpamConf, env: PluginEnv, prev: Result): Promise<void> {
  const { allocations } = await call<{ allocations: { ip: string; handle: string }[] }>(
    conf,
    `/v3/ipam/allocations?node=${conf.node}`,
    {},
  );
  const handle = handleOf(conf.name, env.containerId, env.ifName);
  const held = new Set(allocations.filter((a) => a.handle === handle).map((a) => a.ip));
  for (const ip of prev.ips ?? [])
    if (!held.has(ip.address.split('/')[0]!))
      throw new CniError(CniCode.CHECK_FAILED, `calico-ipam: ${ip.address} is not held by ${handle}`);
}

async function status(conf: CalicoIpamConf): Promise<void> {
  const s = await call<{ nodes: { name: string }[] }>(conf, '/v3/state', {}).catch((e: unknown) => {
    throw new CniError(CniCode.NOT_AVAILABLE, messageOf(e));
  });
  if (!s.nodes.some((n) => n.name === conf.node))
    throw new CniError(
      CniCode.NOT_AVAILABLE,
      `calico-ipam: node ${conf.node} is not registered (is its agent running?)`,
    );
}

async function gc(conf: CalicoIpamConf, _env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  await call(conf, '/v3/ipam/gc', {
    method: 'POST',
    body: {
      node: conf.node,
      prefix: `${conf.name}/`,
      keep: valid.map((a) => handleOf(conf.name, a.containerID, a.ifname)),
    },
  });
}

export const calicoIpamPlugin: CniPlugin<CalicoIpamConf> = {
  parseConfig: parseCalicoIpamConfig,
  add,
  del,
  check,
  status,
  gc,
};
