/**
 * The container-runtime side of CNI (what libcni is to Go): loads configuration lists, runs ADD
 * through the chain with `prevResult`, DEL in reverse, and keeps a result cache per network,
 * container and interface so DEL gets the result ADD returned.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../lib/fs';
import { join } from 'node:path';
import { CnilabError, messageOf } from '../lib/errors';
import type { NetnsRef } from '../lib/netns';
import { findPlugin, invokePlugin } from './invoke';
import { CniCode, CniError, SUPPORTED_VERSIONS, type NetConfList, type PluginConf, type Result } from './types';

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
  /** Base environment for plugins. Default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
}

export class CniRuntime {
  constructor(private readonly options: CniRuntimeOptions) {}

  async addNetworkList(list: NetConfList, rt: RuntimeConf, signal?: AbortSignal): Promise<Result> {
    let prevResult: Result | undefined;
    for (const plugin of list.plugins) {
      prevResult = (await this.exec('ADD', list, plugin, rt, prevResult, signal)) as Result;
    }
    const result = prevResult ?? { cniVersion: list.cniVersion };
    this.writeCache(list, rt, result);
    return result;
  }

  /** Runs DEL for every plugin, last first; errors are collected and the first is thrown after all ran. */
  async delNetworkList(list: NetConfList, rt: RuntimeConf, signal?: AbortSignal): Promise<void> {
    const cached = this.readCache(list, rt);
    let first: unknown;
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.exec('DEL', list, plugin, rt, cached, signal);
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
    rmSync(this.cacheFile(list, rt), { force: true });
  }

  private async exec(command: 'ADD' | 'DEL', list: NetConfList, plugin: PluginConf, rt: RuntimeConf, prevResult: Result | undefined, signal?: AbortSignal): Promise<unknown> {
    const conf = buildPluginConf(list, plugin, rt, prevResult);
    const env: NodeJS.ProcessEnv = {
      ...(this.options.env ?? process.env),
      CNI_COMMAND: command,
      CNI_CONTAINERID: rt.containerId,
      CNI_NETNS: rt.netns,
      CNI_IFNAME: rt.ifName,
      CNI_ARGS: (rt.args ?? []).map(([k, v]) => `${k}=${v}`).join(';'),
      CNI_PATH: this.options.cniPath.join(':'),
    };
    const file = findPlugin(plugin.type, this.options.cniPath);
    return invokePlugin(file, env, JSON.stringify(conf), { hostNetns: this.options.hostNetns, signal });
  }

  private cacheFile(list: NetConfList, rt: RuntimeConf): string {
    return join(this.options.cacheDir, 'results', `${list.name}-${rt.containerId}-${rt.ifName}`);
  }

  private writeCache(list: NetConfList, rt: RuntimeConf, result: Result): void {
    const file = this.cacheFile(list, rt);
    mkdirSync(join(this.options.cacheDir, 'results'), { recursive: true });
    const entry = { kind: 'cniCacheV1', containerId: rt.containerId, ifName: rt.ifName, networkName: list.name, result };
    writeFileAtomic(file, JSON.stringify(entry));
  }

  private readCache(list: NetConfList, rt: RuntimeConf): Result | undefined {
    try {
      return (JSON.parse(readFileSync(this.cacheFile(list, rt), 'utf8')) as { result: Result }).result;
    } catch {
      return undefined;
    }
  }
}

function buildPluginConf(list: NetConfList, plugin: PluginConf, rt: RuntimeConf, prevResult: Result | undefined): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  if (prevResult) conf.prevResult = prevResult;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
    if (on && rt.capabilityArgs && cap in rt.capabilityArgs) runtimeConfig[cap] = rt.capabilityArgs[cap];
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
  if (typeof o.name !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.name)) bad('name', 'must be a network name of letters, digits, _ . -');
  if (typeof o.cniVersion !== 'string' || !(SUPPORTED_VERSIONS as readonly string[]).includes(o.cniVersion)) bad('cniVersion', `must be one of ${SUPPORTED_VERSIONS.join(', ')}`);
  const plugins = o.plugins === undefined && typeof o.type === 'string' ? [stripListFields(o)] : o.plugins;
  if (!Array.isArray(plugins) || plugins.length === 0) return bad('plugins', 'must be a non-empty array');
  plugins.forEach((p, i) => {
    if (typeof p !== 'object' || p === null || typeof (p as { type?: unknown }).type !== 'string') bad(`plugins[${i}].type`, 'is required');
  });
  return { ...o, plugins } as unknown as NetConfList;
}

function stripListFields(o: Record<string, unknown>): PluginConf {
  const { name: _n, cniVersion: _v, ...rest } = o;
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
