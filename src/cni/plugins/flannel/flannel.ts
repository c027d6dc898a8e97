/**
 * `flannel`: a meta-plugin. It reads the subnet.env the node agent wrote, turns it into a
 * configuration for a delegate plugin (bridge by default, host-local IPAM on this node's subnet,
 * a route to the whole pod network, the backend's MTU) and runs that. The delegate's configuration
 * is kept per container, so DEL works the same even after the agent — and its subnet.env — are gone.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdirp, writeFileAtomic } from '../../../lib/fs';
import { join } from 'node:path';
import { familyOf, networkOf, parseSubnetEnv, type SubnetEnv } from './subnet-env';
import { delegate } from '../../invoke';
import { containerNetns } from '../common/iface';
import type { CniPlugin, PluginEnv } from '../../skel';
import { CniCode, CniError, VALID_ATTACHMENTS, type GcAttachment, type Result } from '../../types';
import { parseFlannelConfig, type FlannelConf } from './config';

function readSubnetFile(file: string): SubnetEnv {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CniError(
      CniCode.TRY_AGAIN_LATER,
      `subnetFile ${file}: cannot read (${(e as NodeJS.ErrnoException).code}); is the node agent running?`,
    );
  }
  try {
    return parseSubnetEnv(text, file);
  } catch (e) {
    throw new CniError(CniCode.INVALID_CONFIG, (e as Error).message);
  }
}

/**
 * The delegate's configuration, flannel's way: explicit delegate fields win over what subnet.env implies.
 * host-local gets one range set per family subnet.env has (as the reference plugin gives dual-stack), in
 * the configuration's ipFamilies order, and a route to each family's network.
 */
export function delegateConfig(conf: FlannelConf, env: SubnetEnv): Record<string, unknown> {
  const { type: _t, subnetFile: _s, dataDir: _d, delegate: _g, ipFamilies: _f, ...passThrough } = conf.raw;
  const d: Record<string, unknown> = { ...passThrough, ...conf.delegate };
  d.name = conf.name;
  d.cniVersion = conf.cniVersion;
  d.type ??= 'bridge';
  if (d.type === 'bridge') d.isGateway ??= true;
  d.ipMasq ??= !env.ipMasq;
  d.mtu ??= env.mtu;
  const families = conf.ipFamilies.flatMap((f) => {
    const fam = familyOf(env, f);
    return fam ? [fam] : [];
  });
  if (families.length === 0)
    throw new CniError(
      CniCode.INVALID_CONFIG,
      `ipFamilies: subnet.env has none of IPv${conf.ipFamilies.join(' or IPv')}`,
    );
  d.ipam = {
    type: 'host-local',
    ranges: families.map((f) => [{ subnet: networkOf(f.subnet) }]),
    routes: families.map((f) => ({ dst: f.network })),
    ...(isRecord(conf.delegate.ipam) ? conf.delegate.ipam : {}),
  };
  return d;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function savedFile(conf: FlannelConf, env: PluginEnv): string {
  return join(conf.dataDir, env.containerId); // container IDs are validated: no '/' or '..'
}

async function add(conf: FlannelConf, env: PluginEnv): Promise<Result> {
  containerNetns(env); // refused here, before anything is written
  const d = delegateConfig(conf, readSubnetFile(conf.subnetFile));
  const file = savedFile(conf, env);
  mkdirp(conf.dataDir);
  writeFileAtomic(file, JSON.stringify(d));
  try {
    return (await delegate(String(d.type), 'ADD', JSON.stringify(d), env.raw, env.path)) as Result;
  } catch (e) {
    rmSync(file, { force: true });
    throw e;
  }
}

async function del(conf: FlannelConf, env: PluginEnv): Promise<void> {
  const file = savedFile(conf, env);
  let saved: string;
  try {
    saved = readFileSync(file, 'utf8');
  } catch {
    return; // never added, or already deleted
  }
  const d = JSON.parse(saved) as { type: string };
  await delegate(d.type, 'DEL', saved, env.raw, env.path);
  rmSync(file, { force: true });
}

/** CHECK goes to the delegate, with the configuration ADD gave it. */
async function check(conf: FlannelConf, env: PluginEnv, prev: Result): Promise<void> {
  containerNetns(env);
  let saved: Record<string, unknown>;
  try {
    saved = JSON.parse(readFileSync(savedFile(conf, env), 'utf8')) as Record<string, unknown>;
  } catch {
    throw new CniError(
      CniCode.UNKNOWN_CONTAINER,
      `flannel: no ADD of container ${env.containerId} is on record in ${conf.dataDir}`,
    );
  }
  await delegate(String(saved.type), 'CHECK', JSON.stringify({ ...saved, prevResult: prev }), env.raw, env.path);
}

/** Available once the node agent has written subnet.env (and the delegate says so too). */
async function status(conf: FlannelConf, env: PluginEnv): Promise<void> {
  let subnet: SubnetEnv;
  try {
    subnet = readSubnetFile(conf.subnetFile);
  } catch (e) {
    throw new CniError(CniCode.NOT_AVAILABLE, `flannel: ${(e as Error).message}`);
  }
  const d = delegateConfig(conf, subnet);
  await delegate(String(d.type), 'STATUS', JSON.stringify(d), env.raw, env.path);
}

/** Forgets saved delegate configurations of containers that are gone; the delegate collects the rest. */
async function gc(conf: FlannelConf, env: PluginEnv, valid: readonly GcAttachment[]): Promise<void> {
  const ids = new Set(valid.map((a) => a.containerID));
  let files: string[] = [];
  try {
    files = readdirSync(conf.dataDir);
  } catch {
    /* nothing saved yet */
  }
  for (const f of files) if (!ids.has(f)) rmSync(join(conf.dataDir, f), { force: true });
  let subnet: SubnetEnv;
  try {
    subnet = readSubnetFile(conf.subnetFile);
  } catch {
    return; // no agent: nothing the delegate could be told
  }
  const d = delegateConfig(conf, subnet);
  await delegate(String(d.type), 'GC', JSON.stringify({ ...d, [VALID_ATTACHMENTS]: valid }), env.raw, env.path);
}

export const flannelPlugin: CniPlugin<FlannelConf> = { parseConfig: parseFlannelConfig, add, del, check, status, gc };
