/**
 * The one shape every cnilab plugin has: `parseConfig` plus `add`/`del` handlers, run by `runSkel`
 * with injected environment, stdin and stdout — so a plugin is testable without exec.
 */
import { CniCode, CniError, SUPPORTED_VERSIONS, SPEC_VERSION, type Result, type ResultIp } from './types';
import { messageOf } from '../lib/errors';

/** The spec's CNI_* variables, validated. */
export interface PluginEnv {
  readonly command: 'ADD' | 'DEL' | 'VERSION';
  readonly containerId: string;
  /** Empty on a DEL whose namespace is already gone. */
  readonly netns: string;
  readonly ifName: string;
  readonly args: string;
  readonly path: readonly string[];
  /** The whole environment, passed on to delegated plugins. */
  readonly raw: NodeJS.ProcessEnv;
}

export interface CniPlugin<C extends { readonly cniVersion: string }> {
  /** Defaults and validation in one place; throws CniError 6 (decode) or 7 (invalid). */
  parseConfig(stdin: string): C;
  add(conf: C, env: PluginEnv): Promise<Result>;
  /** Must succeed when what it removes is already gone. */
  del(conf: C, env: PluginEnv): Promise<void>;
}

export interface SkelIO {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: string;
  write(text: string): void;
}

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function parseJson(stdin: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CniCode.DECODE_FAILURE, 'network configuration on stdin is not JSON', messageOf(e));
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CniError(CniCode.DECODE_FAILURE, 'network configuration on stdin is not a JSON object');
  return v as Record<string, unknown>;
}

/** Runs one plugin invocation; returns the exit code (0, or 1 with an error JSON written). */
export async function runSkel<C extends { readonly cniVersion: string }>(plugin: CniPlugin<C>, io: SkelIO): Promise<number> {
  let version: string = SPEC_VERSION;
  try {
    const command = io.env.CNI_COMMAND;
    if (command === 'VERSION') {
      const requested = versionOf(io.stdin);
      io.write(JSON.stringify({ cniVersion: requested ?? SPEC_VERSION, supportedVersions: SUPPORTED_VERSIONS }));
      return 0;
    }
    if (command !== 'ADD' && command !== 'DEL') {
      throw new CniError(CniCode.INVALID_ENV, `CNI_COMMAND ${JSON.stringify(command ?? '')} is not supported (ADD, DEL, VERSION)`);
    }
    const requested = versionOf(io.stdin);
    if (requested !== undefined) version = requested;
    const env = readEnv(command, io.env);
    const conf = plugin.parseConfig(io.stdin);
    if (!(SUPPORTED_VERSIONS as readonly string[]).includes(conf.cniVersion)) {
      throw new CniError(CniCode.INCOMPATIBLE_VERSION, `cniVersion ${JSON.stringify(conf.cniVersion)} is not supported`, `supported: ${SUPPORTED_VERSIONS.join(', ')}`);
    }
    if (command === 'ADD') io.write(JSON.stringify(formatResult(await plugin.add(conf, env), conf.cniVersion)));
    else await plugin.del(conf, env);
    return 0;
  } catch (e) {
    const err = e instanceof CniError ? e : new CniError(CniCode.KERNEL_OPERATION, messageOf(e));
    io.write(JSON.stringify(err.toJSON(version)));
    return 1;
  }
}

function versionOf(stdin: string): string | undefined {
  if (stdin.trim() === '') return undefined;
  const v = parseJson(stdin).cniVersion;
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new CniError(CniCode.INVALID_CONFIG, 'cniVersion: must be a string');
  return v;
}

function readEnv(command: 'ADD' | 'DEL', raw: NodeJS.ProcessEnv): PluginEnv {
  const need = (key: string): string => {
    const v = raw[key];
    if (v === undefined || v === '') throw new CniError(CniCode.INVALID_ENV, `${key} is required for ${command}`);
    return v;
  };
  const containerId = need('CNI_CONTAINERID');
  if (!CONTAINER_ID.test(containerId)) throw new CniError(CniCode.INVALID_ENV, `CNI_CONTAINERID ${JSON.stringify(containerId)} must match ${CONTAINER_ID.source}`);
  const ifName = need('CNI_IFNAME');
  if (ifName.length > 15 || /[/\s:\0]/.test(ifName) || ifName === '.' || ifName === '..') {
    throw new CniError(CniCode.INVALID_ENV, `CNI_IFNAME ${JSON.stringify(ifName)} is not a valid interface name`);
  }
  const netns = command === 'ADD' ? need('CNI_NETNS') : (raw.CNI_NETNS ?? '');
  return {
    command,
    containerId,
    netns,
    ifName,
    args: raw.CNI_ARGS ?? '',
    path: need('CNI_PATH').split(':').filter(Boolean),
    raw,
  };
}

/** Results before 1.0.0 carry each IP's family as `version`. */
export function formatResult(result: Result, cniVersion: string): Result {
  const ips = result.ips?.map((ip): ResultIp => (cniVersion.startsWith('0.') ? { version: ip.address.includes(':') ? '6' : '4', ...ip } as ResultIp : ip));
  return { ...result, cniVersion, ...(ips ? { ips } : {}) };
}

/** Entry point of a plugin executable. */
export function main<C extends { readonly cniVersion: string }>(plugin: CniPlugin<C>): void {
  const chunks: Buffer[] = [];
  process.stdin.on('data', (c: Buffer) => chunks.push(c));
  process.stdin.on('end', () => {
    void runSkel(plugin, { env: process.env, stdin: Buffer.concat(chunks).toString('utf8'), write: (t) => process.stdout.write(t) }).then((code) => {
      process.exitCode = code;
    });
  });
}
