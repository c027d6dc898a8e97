/**
 * The crr tool in a lab's namespaces: a server started in one (ready once it says it listens — an
 * event, never a pause) and a client run in another, whose JSON answer is returned.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { CnilabError } from '../../lib/errors';
import { run, startWatched, stopPid } from '../../lib/exec';
import { inNetns, type NetnsRef } from '../../lib/netns';
import { pinned, type ToolServer } from '../server';
import type { CrrOptions, CrrResult } from './client';

const MAIN = join(__dirname, 'main.js');

export type CrrServer = ToolServer;

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

/** A client started with `until`: `first` resolves at its first answered connection, `done` with its result. */
export interface CrrWatch {
  readonly first: Promise<void>;
  readonly done: Promise<CrrResult>;
  /** Stops it (when what it watches failed). */
  stop(): Promise<void>;
}

/**
 * Starts the crr client in `ns` connecting (`o.intervalMs` apart) until server `o.until` answers:
 * how a change is seen to take effect. `first` resolves once it is connecting (an event, not a
 * pause); `done` rejects when it exits without a result.
 */
export function watchCrr(ns: NetnsRef, o: CrrOptions & { readonly until: string }): CrrWatch {
  const args = [MAIN, 'connect', '--host', o.host, '--port', String(o.port), '--count', String(o.count)];
  args.push('--until', o.until, '--interval-ms', String(o.intervalMs ?? 0));
  args.push('--interval-pct', String(o.intervalPct ?? 0));
  if (o.durationSec !== undefined) args.push('--duration', String(o.durationSec));
  if (o.timeoutMs !== undefined) args.push('--timeout-ms', String(o.timeoutMs));
  const [cmd, a] = inNetns(ns, process.execPath, args);
  const child = startWatched(cmd, a);
  let out = '';
  let err = '';
  let onFirst: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (onFirst = resolve));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('first\n')) onFirst();
  });
  const done = once(child, 'close').then(() => {
    const last = out.trim().split('\n').at(-1) ?? '';
    if (!last.startsWith('{'))
      throw new CnilabError('EXEC_FAILED', `crr client in ${JSON.stringify(ns)} gave no result: ${err.trim()}`);
    return JSON.parse(last) as CrrResult;
  });
  // One that exits before its first answer ends the wait for it too (done says why).
  void done.then(onFirst, onFirst);
  const pid = child.pid!;
  return { first, done, stop: () => stopPid(pid) };
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
