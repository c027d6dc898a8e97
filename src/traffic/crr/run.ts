/**
 * The crr tool in a lab's namespaces: a server started in one (ready once it says it listens — an
 * event, never a pause) and a client run in another, whose JSON answer is returned.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { CnilabError } from '../../lib/errors';
import { run, startWatched, stopPid } from '../../lib/exec';
import { inNetns, type NetnsRef } from '../../lib/netns';
import type { CrrOptions, CrrResult } from './client';

const MAIN = join(__dirname, 'main.js');

const pinned = (cpu: number | undefined, command: string, args: readonly string[]): [string, string[]] =>
  cpu === undefined ? [command, [...args]] : ['taskset', ['-c', String(cpu), command, ...args]];

export interface CrrServer {
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts a crr server in `ns` on `port`, answering as `name`; resolves once it listens. */
export async function startCrrServer(
  ns: NetnsRef,
  port: number,
  name: string,
  bind = '0.0.0.0',
  cpu?: number,
): Promise<CrrServer> {
  const [cmd, args] = inNetns(
    ns,
    ...pinned(cpu, process.execPath, [MAIN, 'serve', '--port', String(port), '--name', name, '--bind', bind]),
  );
  const child = startWatched(cmd, args);
  const pid = child.pid!;
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening\n')) resolve();
    });
    once(child, 'exit').then(
      () => reject(new CnilabError('EXEC_FAILED', `crr server in ${JSON.stringify(ns)} exited: ${err.trim()}`)),
      reject,
    );
  });
  await listening;
  return { pid, stop: () => stopPid(pid) };
}

/** Runs the crr client in `ns` (on CPU `cpu` when given). */
export async function runCrr(ns: NetnsRef, o: CrrOptions, cpu?: number, signal?: AbortSignal): Promise<CrrResult> {
  const args = [MAIN, 'connect', '--host', o.host, '--port', String(o.port), '--count', String(o.count)];
  if (o.concurrency) args.push('--concurrency', String(o.concurrency));
  if (o.durationSec !== undefined) args.push('--duration', String(o.durationSec));
  if (o.timeoutMs !== undefined) args.push('--timeout-ms', String(o.timeoutMs));
  const [cmd, a] = inNetns(ns, ...pinned(cpu, process.execPath, args));
  const r = await run(cmd, a, { signal });
  return JSON.parse(r.stdout) as CrrResult;
}
