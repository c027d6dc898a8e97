/**
 * How every mode reaches its node: each command runs through `ip netns exec NODE.netns`, always —
 * from the node's agent (already in that namespace: entering it again changes nothing) as from a
 * test or a tear-down outside it. So no mode ever programs the namespace it happens to run in,
 * and never the host's root namespace by mistake. The node's `timeoutMs`, when set, bounds each
 * command (a command's own option wins).
 */
import { runIn } from '../lib/netns';
import type { ExecOptions, ExecResult } from '../lib/exec';
import type { ProxyNode } from './mode';

export function nodeRun(
  node: Pick<ProxyNode, 'netns' | 'timeoutMs'>,
  command: string,
  args: readonly string[],
  options?: ExecOptions,
): Promise<ExecResult> {
  const bounded = node.timeoutMs === undefined ? options : { timeoutMs: node.timeoutMs, ...options };
  return runIn({ name: node.netns }, command, args, bounded);
}

/** Runs `fn` and returns its result with its wall time in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}
