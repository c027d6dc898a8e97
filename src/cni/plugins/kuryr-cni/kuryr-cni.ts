/**
 * `kuryr-cni`: the thin CNI plugin of the Kuryr architecture. It does no networking itself: it
 * hands ADD and DEL to the node daemon on its Unix socket (as kuryr-cni asks kuryr-daemon), which
 * talks to the port controller and the mechanism driver, and relays the answer.
 *
 *   { "type": "kuryr-cni", "daemonSocket": "/run/cnilab/LAB/nodes/NODE/kuryr.sock", "network": "net-a" }
 */
import { connect } from 'node:net';
import { httpJson } from '../../../lib/http-json';
import { checkContainerSide, containerNetns } from '../common/iface';
import { parseJson, type CniPlugin, type PluginEnv } from '../../skel';
import { isObject, optStr, str } from '../../validate';
import { CniCode, CniError, type NetConf, type Result } from '../../types';

export interface KuryrCniConf {
  readonly cniVersion: string;
  readonly name: string;
  readonly daemonSocket: string;
  /** The port controller's network (name or ID). Default: its first network. */
  readonly network?: string;
  readonly raw: NetConf;
}

export function parseKuryrConfig(stdin: string): KuryrCniConf {
  const o = parseJson(stdin);
  const daemonSocket = str(o, 'daemonSocket', 'daemonSocket');
  if (!daemonSocket.startsWith('/'))
    throw new CniError(CniCode.INVALID_CONFIG, "daemonSocket: must be an absolute path to the node daemon's socket");
  if (o.args !== undefined && !isObject(o.args)) throw new CniError(CniCode.INVALID_CONFIG, 'args: must be an object');
  return {
    cniVersion: str(o, 'cniVersion', 'cniVersion'),
    name: str(o, 'name', 'name'),
    daemonSocket,
    network: optStr(o, 'network', 'network'),
    raw: o as unknown as NetConf,
  };
}

async function call(conf: KuryrCniConf, path: string, body: object): Promise<unknown> {
  let r: { status: number; body: unknown };
  try {
    r = await httpJson(`http://kuryr-daemon${path}`, { method: 'POST', socketPath: conf.daemonSocket, body });
  } catch (e) {
    throw new CniError(
      CniCode.TRY_AGAIN_LATER,
      `the node daemon does not answer on ${conf.daemonSocket}; is kuryr-daemon running?`,
      (e as Error).message,
    );
  }
  if (r.status !== 200) {
    const err = r.body as { code?: number; msg?: string; details?: string };
    throw new CniError(
      typeof err.code === 'number' ? err.code : CniCode.KERNEL_OPERATION,
      err.msg ?? `node daemon: HTTP ${r.status}`,
      err.details,
    );
  }
  return r.body;
}

async function add(conf: KuryrCniConf, env: PluginEnv): Promise<Result> {
  containerNetns(env); // a namespace path that is not one, or is gone, is refused here, not by the daemon
  const result = (await call(conf, '/addNetwork', {
    containerId: env.containerId,
    netns: env.netns,
    ifName: env.ifName,
    network: conf.network,
  })) as Omit<Result, 'cniVersion'>;
  return { cniVersion: conf.cniVersion, ...result };
}

async function del(conf: KuryrCniConf, env: PluginEnv): Promise<void> {
  await call(conf, '/delNetwork', { containerId: env.containerId, ifName: env.ifName });
}

/** The pod's interface is what the daemon returned at ADD: a veth with that MAC, addresses and routes. */
async function check(_conf: KuryrCniConf, env: PluginEnv, prev: Result): Promise<void> {
  await checkContainerSide(containerNetns(env), env, prev, 'veth');
}

/** Available when the node daemon accepts connections on its socket. */
async function status(conf: KuryrCniConf): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect(conf.daemonSocket);
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', (e) =>
      reject(
        new CniError(
          CniCode.NOT_AVAILABLE,
          `kuryr-cni: the node daemon does not answer on ${conf.daemonSocket}`,
          e.message,
        ),
      ),
    );
  });
}

/** Ports belong to the port controller, which the node daemon keeps in step: nothing held here. */
async function gc(): Promise<void> {}

export const kuryrCniPlugin: CniPlugin<KuryrCniConf> = { parseConfig: parseKuryrConfig, add, del, check, status, gc };
