/**
 * Executing a CNI plugin binary: finding it on CNI_PATH, passing the spec's environment and stdin,
 * reading its result or error. Used by the runtime and by plugins that delegate (IPAM).
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../lib/exec';
import { inNetns, type NetnsRef } from '../lib/netns';
import { CniCode, CniError, type ErrorBody } from './types';
import { runSkel, type CniPlugin, type Command } from './skel';

export function findPlugin(type: string, cniPath: readonly string[]): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(type))
    throw new CniError(CniCode.INVALID_CONFIG, `type: ${JSON.stringify(type)} is not a plugin name`);
  for (const dir of cniPath) {
    const file = join(dir, type);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* next */
    }
  }
  throw new CniError(
    CniCode.INVALID_CONFIG,
    `plugin ${JSON.stringify(type)} not found in CNI_PATH ${cniPath.join(':') || '(empty)'}`,
  );
}

export interface InvokeOptions {
  /** Run the plugin inside this namespace (the container runtime's host namespace). Default: here. */
  readonly hostNetns?: NetnsRef;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** Runs a plugin; returns its parsed stdout (or null when empty); throws CniError with its code. */
export async function invokePlugin(
  file: string,
  env: NodeJS.ProcessEnv,
  stdin: string,
  options: InvokeOptions = {},
): Promise<unknown> {
  const [cmd, args] = inNetns(options.hostNetns, file, []);
  const r = await run(cmd, args, {
    env,
    input: stdin,
    check: false,
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  const text = r.stdout.trim();
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CniError(
        CniCode.DECODE_FAILURE,
        `${file} (${env.CNI_COMMAND}) wrote output that is not JSON`,
        text.slice(0, 500),
      );
    }
  }
  if (r.code !== 0) {
    const body = parsed as Partial<ErrorBody> | null;
    if (body && typeof body.code === 'number' && typeof body.msg === 'string')
      throw new CniError(body.code, body.msg, body.details);
    throw new CniError(
      CniCode.IO_FAILURE,
      `${file} (${env.CNI_COMMAND}) exited ${r.code} without an error JSON`,
      r.stderr.trim().slice(0, 500),
    );
  }
  return parsed;
}

/**
 * Plugins this executable may run in its own process when delegating, because the file found on
 * CNI_PATH for that type is one of ours (it sits in our own directory): same code, same
 * environment, same stdin — without a second Node.js start-up. Any other file is executed.
 */
const inProcess = new Map<string, CniPlugin<{ readonly cniVersion: string }>>();

export function registerInProcess<C extends { readonly cniVersion: string }>(type: string, plugin: CniPlugin<C>): void {
  inProcess.set(type, plugin as unknown as CniPlugin<{ readonly cniVersion: string }>);
}

/** The directory of this plugin's executable: its script's, or the binary's when it is one (bun build --compile). */
function ownDirectory(): string | undefined {
  for (const file of [process.argv[1], process.execPath]) {
    try {
      if (file) return dirname(realpathSync(file));
    } catch {
      /* a compiled binary's argv[1] is inside its embedded file system */
    }
  }
  return undefined;
}

function isOurs(file: string): boolean {
  try {
    return dirname(realpathSync(file)) === ownDirectory();
  } catch {
    return false;
  }
}

/** IPAM and other delegation from inside a plugin: same environment, same stdin, as the spec says. */
export async function delegate(
  type: string,
  command: Exclude<Command, 'VERSION'>,
  stdin: string,
  env: NodeJS.ProcessEnv,
  cniPath: readonly string[],
): Promise<unknown> {
  const file = findPlugin(type, cniPath);
  const own = inProcess.get(type);
  const delegateEnv = { ...env, CNI_COMMAND: command };
  if (own && isOurs(file)) {
    let out = '';
    const code = await runSkel(own, { env: delegateEnv, stdin, write: (t) => (out += t) });
    const parsed: unknown = out === '' ? null : JSON.parse(out);
    if (code !== 0) {
      const body = parsed as ErrorBody;
      throw new CniError(body.code, body.msg, body.details);
    }
    return parsed;
  }
  return invokePlugin(file, delegateEnv, stdin);
}
