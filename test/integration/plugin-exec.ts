/**
 * The one way a test starts a CNI plugin executable by hand: inside a namespace the test made,
 * never in the namespace the tests run in. A plugin acts on the namespace it runs in (the
 * reference `bridge` creates its bridge there before it even opens the container's namespace), so
 * a plugin started anywhere else would change the machine that runs the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { run, type ExecResult } from '../../src/lib/exec';
import { labOfNetns } from '../../src/lab/names';

export type PluginEnv = Readonly<Record<string, string | undefined>>;

function argv(ns: string, file: string): string[] {
  if (labOfNetns(ns) === undefined)
    throw new Error(
      `a plugin runs only in a lab namespace the test made (cnilab-LAB.…), not in ` + `${JSON.stringify(ns)}`,
    );
  return ['netns', 'exec', ns, file];
}

/** The environment a runtime gives a plugin: PATH and the CNI_* variables, nothing of this process. */
function pluginEnv(env: PluginEnv): Record<string, string> {
  const out: Record<string, string> = { PATH: process.env.PATH! };
  // an environment cannot carry NUL
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v.replace(/\0/g, '');
  return out;
}

/** Runs plugin `file` in lab namespace `ns` with `env` and `stdin`; resolves whatever its exit code. */
export function execPlugin(
  ns: string,
  file: string,
  env: PluginEnv,
  stdin: string,
  timeoutMs = 20_000,
): Promise<ExecResult> {
  return run('ip', argv(ns, file), { env: pluginEnv(env), input: stdin, check: false, timeoutMs });
}

/**
 * Starts plugin `file` in lab namespace `ns` as the leader of a process group of its own, so that
 * `groupGone` can tell when every program it started has ended too.
 */
export function spawnPlugin(ns: string, file: string, env: PluginEnv): ChildProcess {
  return spawn('ip', argv(ns, file), { env: pluginEnv(env), stdio: ['pipe', 'ignore', 'ignore'], detached: true });
}

/** True when no live process (zombies aside: they run nothing) is left in process group `pgid`. */
export function groupGone(pgid: number): boolean {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // ended while we looked
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after its last ')'
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return false;
  }
  return true;
}
