/**
 * The one shape every cnilab plugin has: `parseConfig` plus a handler per CNI command, run by
 * `runSkel` with injected environment, stdin and stdout — so a plugin is testable without exec.
 * The skel owns everything the spec says about the protocol itself: which variables each command
 * needs and their rules, version negotiation (VERSION; CHECK needs 0.4.0, STATUS and GC 1.1.0),
 * `prevResult` read in any version, the result written in the configuration's version, and one
 * error JSON on stdout for any failure.
 */
import {
  CniCode,
  CniError,
  SUPPORTED_VERSIONS,
  SPEC_VERSION,
  VALID_ATTACHMENTS,
  type GcAttachment,
  type Result,
} from './types';
import { atLeast, convertResult, isSupportedVersion, parseResult } from './version';
import { readSync, writeSync } from 'node:fs';
import { isCnilabError, messageOf } from '../lib/errors';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;
export type Command = (typeof COMMANDS)[number];

/** The spec's CNI_* variables, validated. STATUS and GC have only `path` (the rest are empty). */
export interface PluginEnv {
  readonly command: Exclude<Command, 'VERSION'>;
  readonly containerId: string;
  /** Empty on a DEL whose namespace is already gone, and on STATUS and GC. */
  readonly netns: string;
  readonly ifName: string;
  /** CNI_ARGS as given, and parsed into pairs. */
  readonly args: string;
  readonly cniArgs: ReadonlyMap<string, string>;
  readonly path: readonly string[];
  /** The whole environment, passed on to delegated plugins. */
  readonly raw: NodeJS.ProcessEnv;
}

export interface CniPlugin<C extends { readonly cniVersion: string }> {
  /** Defaults and validation in one place; throws CniError 6 (decode) or 7 (invalid). */
  parseConfig(stdin: string, env: PluginEnv): C;
  add(conf: C, env: PluginEnv, prevResult: Result | undefined): Promise<Result>;
  /** Must succeed when what it removes is already gone. */
  del(conf: C, env: PluginEnv, prevResult: Result | undefined): Promise<void>;
  /** Throws when the container's networking is not what `prevResult` says. */
  check(conf: C, env: PluginEnv, prevResult: Result): Promise<void>;
  /** Throws CniError 50 or 51 when the plugin cannot take ADDs now. */
  status(conf: C, env: PluginEnv): Promise<void>;
  /** Releases whatever this plugin holds for attachments not in `valid`. */
  gc(conf: C, env: PluginEnv, valid: readonly GcAttachment[]): Promise<void>;
}

export interface SkelIO {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: string;
  write(text: string): void;
}

/** The spec's rule for network names. */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The spec's rule for container IDs. */
export const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The spec's rule for interface names (Linux's): 1–15 bytes, not . or .., no /, :, whitespace. */
export function isValidIfName(v: string): boolean {
  return v.length > 0 && Buffer.byteLength(v) <= 15 && !/[/\s:\0]/.test(v) && v !== '.' && v !== '..';
}

/** Which variables each command needs (the spec's table). */
const REQUIRED: Record<Exclude<Command, 'VERSION'>, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  STATUS: ['CNI_PATH'],
  GC: ['CNI_PATH'],
};

/** The lowest configuration version that has the command. */
const SINCE: Partial<Record<Command, string>> = { CHECK: '0.4.0', STATUS: '1.1.0', GC: '1.1.0' };

export function parseJson(stdin: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CniCode.DECODE_FAILURE, 'network configuration on stdin is not JSON', messageOf(e));
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CniError(CniCode.DECODE_FAILURE, 'network configuration on stdin is not a JSON object');
  return v as Record<string, unknown>;
}

/** Runs one plugin invocation; returns the exit code (0, or 1 with an error JSON written). */
export async function runSkel<C extends { readonly cniVersion: string }>(
  plugin: CniPlugin<C>,
  io: SkelIO,
): Promise<number> {
  let version: string = SPEC_VERSION;
  try {
    const command = io.env.CNI_COMMAND;
    if (command === 'VERSION') {
      io.write(JSON.stringify({ cniVersion: SPEC_VERSION, supportedVersions: SUPPORTED_VERSIONS }));
      return 0;
    }
    if (!(COMMANDS as readonly string[]).includes(command ?? '')) {
      throw new CniError(
        CniCode.INVALID_ENV,
        `CNI_COMMAND ${JSON.stringify(command ?? '')} is not one of ${COMMANDS.join(', ')}`,
      );
    }
    const cmd = command as Exclude<Command, 'VERSION'>;
    const json = parseJson(io.stdin);
    const requested = json.cniVersion;
    if (!isSupportedVersion(requested)) {
      throw new CniError(
        CniCode.INCOMPATIBLE_VERSION,
        `cniVersion ${JSON.stringify(requested ?? null)} is not supported`,
        `supported: ${SUPPORTED_VERSIONS.join(', ')}`,
      );
    }
    version = requested;
    const since = SINCE[cmd];
    if (since && !atLeast(version, since)) {
      throw new CniError(
        CniCode.INCOMPATIBLE_VERSION,
        `cniVersion ${version} does not have ${cmd} (it needs ${since} or later)`,
      );
    }
    if (typeof json.name !== 'string' || !NETWORK_NAME.test(json.name)) {
      throw new CniError(
        CniCode.INVALID_CONFIG,
        `name: ${JSON.stringify(json.name ?? null)} is not a network ` +
          `name (a letter or digit, then letters, digits, _ . -)`,
      );
    }
    const env = readEnv(cmd, io.env);
    const conf = plugin.parseConfig(io.stdin, env);
    const prevResult = json.prevResult === undefined ? undefined : parseResult(json.prevResult, 'prevResult');
    switch (cmd) {
      case 'ADD':
        io.write(JSON.stringify(convertResult(await plugin.add(conf, env, prevResult), version)));
        break;
      case 'DEL':
        await plugin.del(conf, env, prevResult);
        break;
      case 'CHECK':
        if (!prevResult)
          throw new CniError(
            CniCode.INVALID_CONFIG,
            'prevResult: is required for CHECK (the result of the ADD being checked)',
          );
        await plugin.check(conf, env, prevResult);
        break;
      case 'STATUS':
        await plugin.status(conf, env);
        break;
      case 'GC':
        await plugin.gc(conf, env, validAttachments(json[VALID_ATTACHMENTS]));
        break;
    }
    return 0;
  } catch (e) {
    io.write(JSON.stringify(asCniError(e).toJSON(version)));
    return 1;
  }
}

/** Any failure as the spec's error: a failed command (ip, sysctl) or netlink request is cnilab's code 100. */
export function asCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (isCnilabError(e, 'EXEC_FAILED') || isCnilabError(e, 'KERNEL_FAILED'))
    return new CniError(CniCode.KERNEL_OPERATION, messageOf(e));
  return new CniError(CniCode.INTERNAL, `internal error: ${messageOf(e)}`);
}

function validAttachments(v: unknown): GcAttachment[] {
  if (v === undefined) return [];
  const bad = (): never => {
    throw new CniError(
      CniCode.INVALID_CONFIG,
      `${VALID_ATTACHMENTS}: must be an array of {"containerID": ..., "ifname": ...}`,
    );
  };
  if (!Array.isArray(v)) return bad();
  return v.map((a: unknown) => {
    const o = a as Record<string, unknown>;
    if (typeof a !== 'object' || a === null || typeof o.containerID !== 'string' || typeof o.ifname !== 'string')
      return bad();
    return { containerID: o.containerID, ifname: o.ifname };
  });
}

/** CNI_ARGS: "K1=V1;K2=V2". */
export function parseCniArgs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  if (text === '') return out;
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1)
      throw new CniError(CniCode.INVALID_ENV, `CNI_ARGS: ${JSON.stringify(pair)} is not KEY=VALUE`);
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

function readEnv(command: Exclude<Command, 'VERSION'>, raw: NodeJS.ProcessEnv): PluginEnv {
  const missing = REQUIRED[command].filter((k) => raw[k] === undefined || raw[k] === '');
  if (missing.length > 0)
    throw new CniError(
      CniCode.INVALID_ENV,
      `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required for ${command}`,
    );
  const get = (key: string): string => (REQUIRED[command].includes(key) ? raw[key]! : '');
  const containerId = get('CNI_CONTAINERID');
  if (containerId !== '' && !CONTAINER_ID.test(containerId))
    throw new CniError(
      CniCode.INVALID_ENV,
      `CNI_CONTAINERID ${JSON.stringify(containerId)} must match ${CONTAINER_ID.source}`,
    );
  const ifName = get('CNI_IFNAME');
  if (ifName !== '' && !isValidIfName(ifName))
    throw new CniError(
      CniCode.INVALID_ENV,
      `CNI_IFNAME ${JSON.stringify(ifName)} is not a valid interface name (1–15 characters, no '/', ':' or spaces)`,
    );
  const netns = command === 'DEL' ? (raw.CNI_NETNS ?? '') : get('CNI_NETNS');
  const args = command === 'STATUS' || command === 'GC' ? '' : (raw.CNI_ARGS ?? '');
  return {
    command,
    containerId,
    netns,
    ifName,
    args,
    cniArgs: parseCniArgs(args),
    path: raw.CNI_PATH!.split(':').filter(Boolean),
    raw,
  };
}

/** All of stdin, read synchronously: a plugin's start-up is on every ADD's path, and a stream costs ~20 ms. */
function readStdin(): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.allocUnsafe(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue; // a non-blocking pipe not ready yet
      if (code === 'EOF' || code === 'EBADF') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Entry point of a plugin executable. */
export function main<C extends { readonly cniVersion: string }>(plugin: CniPlugin<C>): void {
  const fail = (e: unknown): void => {
    writeSync(1, JSON.stringify(asCniError(e).toJSON(SPEC_VERSION)));
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  let stdin: string;
  try {
    stdin = readStdin();
  } catch (e) {
    fail(new CniError(CniCode.IO_FAILURE, `cannot read stdin: ${messageOf(e)}`));
    return;
  }
  void runSkel(plugin, { env: process.env, stdin, write: (t) => writeSync(1, t) }).then((code) => {
    process.exitCode = code;
  });
}
