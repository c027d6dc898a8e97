/**
 * The container-runtime side of CNI (what libcni is to Go): loads configuration lists, negotiates
 * the version (`cniVersions`), runs ADD through the chain with `prevResult` and DEL in reverse,
 * CHECK (unless `disableCheck`), STATUS and GC (unless `disableGC`), and keeps a result cache per
 * network, container and interface — libcni's layout, `CACHEDIR/results/NETWORK-CONTAINERID-IFNAME`
 * — which DEL and CHECK use as `prevResult` and GC reads to find stale attachments.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdirp, writeFileAtomic } from '../lib/fs';
import { join } from 'node:path';
import { CnilabError, messageOf } from '../lib/errors';
import type { NetnsRef } from '../lib/netns';
import { findPlugin, invokePlugin } from './invoke';
import {
  CniCode,
  CniError,
  SUPPORTED_VERSIONS,
  VALID_ATTACHMENTS,
  type GcAttachment,
  type NetConfList,
  type PluginConf,
  type Result,
  type VersionResult,
} from './types';
import { atLeast, convertResult, isSupportedVersion, negotiate, parseResult } from './version';
import { CONTAINER_ID, NETWORK_NAME, isValidIfName, type Command } from './skel';

export interface RuntimeConf {
  readonly containerId: string;
  /** Path of the container's network namespace (/run/netns/NAME or /proc/PID/ns/net). */
  readonly netns: string;
  readonly ifName: string;
  /** CNI_ARGS as key/value pairs. Default: none. */
  readonly args?: readonly (readonly [string, string])[];
  /** Values for plugins' `capabilities`, passed as `runtimeConfig`. Default: none. */
  readonly capabilityArgs?: Readonly<Record<string, unknown>>;
}

export interface CniRuntimeOptions {
  /** Directories searched for plugin executables, in order. */
  readonly cniPath: readonly string[];
  /** Where results are cached (libcni's /var/lib/cni). */
  readonly cacheDir: string;
  /** The namespace plugins run in: the node's, for a runtime running on that node. Default: here. */
  readonly hostNetns?: NetnsRef;
  /** Base environment for plugins (CNI_* variables in it are replaced). Default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
}

/** One cached attachment (libcni's cniCacheV1 entry). */
export interface CachedAttachment {
  readonly kind: 'cniCacheV1';
  readonly containerId: string;
  readonly ifName: string;
  readonly networkName: string;
  readonly netns: string;
  readonly cniArgs?: readonly (readonly [string, string])[];
  readonly capabilityArgs?: Readonly<Record<string, unknown>>;
  /** The configuration list, base64, as libcni stores it. */
  readonly config: string;
  readonly result: Result;
}

/** The version a list runs at: the highest of `cniVersions` this runtime speaks, else `cniVersion`. */
export function listVersion(list: NetConfList): string {
  if (list.cniVersions && list.cniVersions.length > 0) {
    const v = negotiate(list.cniVersions);
    if (!v)
      throw new CniError(
        CniCode.INCOMPATIBLE_VERSION,
        `cniVersions ${list.cniVersions.join(', ')}: none is one cnilab speaks (${SUPPORTED_VERSIONS.join(', ')})`,
      );
    return v;
  }
  return list.cniVersion;
}

export class CniRuntime {
  constructor(private readonly options: CniRuntimeOptions) {}

  /**
   * ADD through the chain. A failing plugin undoes its own work; what the plugins before it made in
   * this ADD is deleted again (DEL, last first), so a failed ADD leaves nothing.
   */
  async addNetworkList(list: NetConfList, rt: RuntimeConf, signal?: AbortSignal): Promise<Result> {
    validateRuntimeConf(rt);
    const version = listVersion(list);
    let prevResult: Result | undefined;
    for (const [i, plugin] of list.plugins.entries()) {
      try {
        const out = await this.exec('ADD', list, plugin, rt, prevResult, signal);
        prevResult = convertResult(parseResult(out, `${plugin.type}'s ADD result`), version);
      } catch (e) {
        for (const done of list.plugins.slice(0, i).reverse()) {
          await this.exec('DEL', list, done, rt, prevResult, undefined).catch(() => undefined);
        }
        throw e;
      }
    }
    const result = prevResult ?? { cniVersion: version };
    this.writeCache(list, rt, result);
    return result;
  }

  /** CHECK through the chain with the cached result; needs 0.4.0 or later; nothing when `disableCheck`. */
  async checkNetworkList(list: NetConfList, rt: RuntimeConf, signal?: AbortSignal): Promise<void> {
    validateRuntimeConf(rt);
    const version = listVersion(list);
    if (!atLeast(version, '0.4.0'))
      throw new CniError(
        CniCode.INCOMPATIBLE_VERSION,
        `configuration version ${version} does not have CHECK (0.4.0 or later)`,
      );
    if (list.disableCheck) return;
    const cached = this.readCache(list.name, rt);
    if (!cached)
      throw new CniError(
        CniCode.UNKNOWN_CONTAINER,
        `no cached result for container ${rt.containerId} interface ${rt.ifName} on network ${list.name}: ADD it first`,
      );
    const prev = convertResult(parseResult(cached.result, 'cached result'), version);
    for (const plugin of list.plugins) await this.exec('CHECK', list, plugin, rt, prev, signal);
  }

  /** DEL for every plugin, last first; errors are collected and the first is thrown after all ran. */
  async delNetworkList(list: NetConfList, rt: RuntimeConf, signal?: AbortSignal): Promise<void> {
    validateRuntimeConf(rt);
    const version = listVersion(list);
    const cached = this.readCache(list.name, rt);
    const prev =
      cached && atLeast(version, '0.4.0')
        ? convertResult(parseResult(cached.result, 'cached result'), version)
        : undefined;
    let first: unknown;
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.exec('DEL', list, plugin, rt, prev, signal);
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
    rmSync(this.cacheFile(list.name, rt), { force: true });
  }

  /** STATUS of every plugin (1.1.0 and later; earlier versions have none and report nothing). */
  async statusNetworkList(list: NetConfList, signal?: AbortSignal): Promise<void> {
    if (!atLeast(listVersion(list), '1.1.0')) return;
    for (const plugin of list.plugins) await this.exec('STATUS', list, plugin, undefined, undefined, signal);
  }

  /**
   * GC: every cached attachment of this network not in `valid` is deleted (DEL with what was cached),
   * then, from 1.1.0, every plugin gets GC with `cni.dev/valid-attachments`. Nothing when `disableGC`.
   */
  async gcNetworkList(
    list: NetConfList,
    valid: readonly GcAttachment[] = [],
    signal?: AbortSignal,
  ): Promise<{ deleted: GcAttachment[] }> {
    if (list.disableGC) return { deleted: [] };
    const keep = new Set(valid.map((a) => `${a.containerID}/${a.ifname}`));
    const deleted: GcAttachment[] = [];
    const errors: string[] = [];
    for (const a of this.cachedAttachments(list.name)) {
      if (keep.has(`${a.containerId}/${a.ifName}`)) continue;
      try {
        await this.delNetworkList(
          list,
          {
            containerId: a.containerId,
            ifName: a.ifName,
            netns: a.netns,
            args: a.cniArgs,
            capabilityArgs: a.capabilityArgs,
          },
          signal,
        );
        deleted.push({ containerID: a.containerId, ifname: a.ifName });
      } catch (e) {
        errors.push(`stale attachment ${a.containerId} ${a.ifName}: ${messageOf(e)}`);
      }
    }
    if (atLeast(listVersion(list), '1.1.0')) {
      for (const plugin of list.plugins) {
        try {
          await this.exec('GC', list, plugin, undefined, undefined, signal, { [VALID_ATTACHMENTS]: valid });
        } catch (e) {
          errors.push(`GC of ${plugin.type}: ${messageOf(e)}`);
        }
      }
    }
    if (errors.length > 0)
      throw new CniError(CniCode.IO_FAILURE, `GC of network ${list.name} failed: ${errors.join('; ')}`);
    return { deleted };
  }

  /** A plugin's VERSION answer. */
  async versionInfo(
    type: string,
    cniVersion: string = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!,
  ): Promise<VersionResult> {
    const file = findPlugin(type, this.options.cniPath);
    return (await invokePlugin(
      file,
      { ...this.baseEnv(), CNI_COMMAND: 'VERSION', CNI_PATH: this.options.cniPath.join(':') },
      JSON.stringify({ cniVersion }),
      { hostNetns: this.options.hostNetns },
    )) as VersionResult;
  }

  /** Every cached attachment (of one network, when given). */
  cachedAttachments(network?: string): CachedAttachment[] {
    const dir = join(this.options.cacheDir, 'results');
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch {
      return [];
    }
    const out: CachedAttachment[] = [];
    for (const f of files) {
      try {
        const entry = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CachedAttachment;
        if (entry.kind === 'cniCacheV1' && (network === undefined || entry.networkName === network)) out.push(entry);
      } catch {
        /* a half-written or foreign file: not an attachment */
      }
    }
    return out;
  }

  private baseEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(this.options.env ?? process.env)) if (!k.startsWith('CNI_')) env[k] = v;
    return env;
  }

  private async exec(
    command: Exclude<Command, 'VERSION'>,
    list: NetConfList,
    plugin: PluginConf,
    rt: RuntimeConf | undefined,
    prevResult: Result | undefined,
    signal?: AbortSignal,
    inject: Record<string, unknown> = {},
  ): Promise<unknown> {
    const conf = { ...buildPluginConf(list, plugin, rt, prevResult), ...inject };
    const env: NodeJS.ProcessEnv = {
      ...this.baseEnv(),
      CNI_COMMAND: command,
      CNI_PATH: this.options.cniPath.join(':'),
    };
    if (rt) {
      env.CNI_CONTAINERID = rt.containerId;
      env.CNI_NETNS = rt.netns;
      env.CNI_IFNAME = rt.ifName;
      env.CNI_ARGS = (rt.args ?? []).map(([k, v]) => `${k}=${v}`).join(';');
    }
    const file = findPlugin(plugin.type, this.options.cniPath);
    return invokePlugin(file, env, JSON.stringify(conf), { hostNetns: this.options.hostNetns, signal });
  }

  private cacheFile(network: string, rt: RuntimeConf): string {
    return join(this.options.cacheDir, 'results', `${network}-${rt.containerId}-${rt.ifName}`);
  }

  private writeCache(list: NetConfList, rt: RuntimeConf, result: Result): void {
    mkdirp(join(this.options.cacheDir, 'results'));
    const entry: CachedAttachment = {
      kind: 'cniCacheV1',
      containerId: rt.containerId,
      ifName: rt.ifName,
      networkName: list.name,
      netns: rt.netns,
      ...(rt.args ? { cniArgs: rt.args } : {}),
      ...(rt.capabilityArgs ? { capabilityArgs: rt.capabilityArgs } : {}),
      config: Buffer.from(JSON.stringify(list)).toString('base64'),
      result,
    };
    writeFileAtomic(this.cacheFile(list.name, rt), JSON.stringify(entry));
  }

  /** The cached entry for this attachment, if any. */
  readCache(network: string, rt: RuntimeConf): CachedAttachment | undefined {
    try {
      return JSON.parse(readFileSync(this.cacheFile(network, rt), 'utf8')) as CachedAttachment;
    } catch {
      return undefined;
    }
  }
}

function validateRuntimeConf(rt: RuntimeConf): void {
  if (!CONTAINER_ID.test(rt.containerId))
    throw new CniError(
      CniCode.INVALID_ENV,
      `container ID ${JSON.stringify(rt.containerId)} must match ${CONTAINER_ID.source}`,
    );
  if (!isValidIfName(rt.ifName))
    throw new CniError(
      CniCode.INVALID_ENV,
      `interface name ${JSON.stringify(rt.ifName)} is not valid (1–15 characters, no '/', ':' or spaces)`,
    );
  for (const [k, v] of rt.args ?? []) {
    if (k === '' || /[;=]/.test(k) || /;/.test(v))
      throw new CniError(
        CniCode.INVALID_ENV,
        `CNI_ARGS pair ${JSON.stringify(`${k}=${v}`)} cannot be passed (no ';' and no '=' in keys)`,
      );
  }
}

function buildPluginConf(
  list: NetConfList,
  plugin: PluginConf,
  rt: RuntimeConf | undefined,
  prevResult: Result | undefined,
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: listVersion(list), name: list.name };
  if (prevResult) conf.prevResult = prevResult;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
    if (on && rt?.capabilityArgs && cap in rt.capabilityArgs) runtimeConfig[cap] = rt.capabilityArgs[cap];
  }
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  return conf;
}

/** Validates a configuration list (or a single .conf, which becomes a list of one). */
export function parseConfList(text: string, source: string): NetConfList {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CnilabError('INVALID_INPUT', `${source}: not JSON (${messageOf(e)})`);
  }
  const bad = (field: string, what: string): never => {
    throw new CnilabError('INVALID_INPUT', `${source}: ${field} ${what}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('(top level)', 'must be an object');
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string' || !NETWORK_NAME.test(o.name))
    bad('name', 'must be a network name of letters, digits, _ . -');
  if (o.cniVersions !== undefined) {
    if (!Array.isArray(o.cniVersions) || o.cniVersions.some((x) => typeof x !== 'string'))
      bad('cniVersions', 'must be an array of version strings');
    if (!negotiate(o.cniVersions as string[])) bad('cniVersions', `has none of ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  if (o.cniVersions === undefined || o.cniVersion !== undefined) {
    if (!isSupportedVersion(o.cniVersion)) bad('cniVersion', `must be one of ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  for (const f of ['disableCheck', 'disableGC'] as const)
    if (o[f] !== undefined && typeof o[f] !== 'boolean') bad(f, 'must be true or false');
  const plugins = o.plugins === undefined && typeof o.type === 'string' ? [stripListFields(o)] : o.plugins;
  if (!Array.isArray(plugins) || plugins.length === 0) return bad('plugins', 'must be a non-empty array');
  plugins.forEach((p, i) => {
    if (typeof p !== 'object' || p === null || typeof (p as { type?: unknown }).type !== 'string')
      bad(`plugins[${i}].type`, 'is required');
  });
  const list = { ...o, plugins } as unknown as NetConfList;
  return list.cniVersion === undefined ? { ...list, cniVersion: listVersion(list) } : list;
}

function stripListFields(o: Record<string, unknown>): PluginConf {
  const { name: _n, cniVersion: _v, cniVersions: _vs, disableCheck: _c, disableGC: _g, ...rest } = o;
  return rest as PluginConf;
}

export function loadConfList(file: string): NetConfList {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CnilabError('INVALID_INPUT', `${file}: cannot read (${messageOf(e)})`);
  }
  return parseConfList(text, file);
}

export { CniError, CniCode };
