/**
 * Running a few synchronous calls with this thread in another network namespace: setns there, the
 * calls, setns back — so the process never stays anywhere but where it started. What needs it: a
 * netlink socket (it keeps the namespace it was opened in) and /proc/sys/net (which shows the
 * namespace of the thread that opens it).
 */
import { closeSync, openSync } from 'node:fs';
import { CnilabError } from '../errors';
import { netnsPath, type NetnsRef } from '../netns';
import { netlinkLibc } from './libc';

const CLONE_NEWNET = 0x40000000;

/** `fn()` run with this thread in `ns`, then back home whatever happened; `fn` must not await. */
export function withinNetns<T>(ns: NetnsRef, fn: () => T): T {
  const libc = netlinkLibc();
  const path = netnsPath(ns);
  let target: number;
  try {
    target = openSync(path, 'r');
  } catch (e) {
    throw new CnilabError(
      'NOT_FOUND',
      `network namespace ${path}: ${(e as NodeJS.ErrnoException).code ?? 'cannot open'}`,
    );
  }
  const home = openSync('/proc/thread-self/ns/net', 'r');
  let done: { value: T } | undefined;
  let failure: unknown;
  try {
    if (libc.setns(target, CLONE_NEWNET) !== 0)
      throw new CnilabError('KERNEL_FAILED', `setns ${path}: errno ${libc.errno()}`);
    try {
      done = { value: fn() };
    } catch (e) {
      failure = e;
    }
    // back home whatever happened: the rest of this process must not run in the other namespace
    if (libc.setns(home, CLONE_NEWNET) !== 0)
      throw new CnilabError('INTERNAL', `setns back to this process's namespace failed (errno ${libc.errno()})`);
  } finally {
    closeSync(target);
    closeSync(home);
  }
  if (!done) throw failure;
  return done.value;
}
