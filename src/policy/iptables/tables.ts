/**
 * The iptables design's side of the kernel: what of ours the node's filter table and ipsets hold,
 * the three steps of a sync, and taking it all away. Every command runs in the node's namespace
 * (through `ip netns exec`, ../../proxy/node-run.ts), never elsewhere.
 */
import { CnilabError } from '../../lib/errors';
import { run } from '../../lib/exec';
import { nodeRun } from '../../proxy/node-run';
import type { PolicyNode } from '../design';
import type { IptExisting, IptPlan } from './plan';
import { JUMP, PREFIX } from './rules';

type Node = Pick<PolicyNode, 'netns' | 'timeoutMs'>;

/** The node's filter table as iptables-save prints it: its lines, without comments and COMMIT. */
async function saveFilter(node: Node): Promise<string[]> {
  const r = await nodeRun(node, 'iptables-save', ['-t', 'filter'], { check: false });
  // No filter table yet (nothing ever used iptables here): nothing of ours either.
  if (r.code !== 0) return [];
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('*') && l !== 'COMMIT');
}

const ourChains = (lines: readonly string[]): string[] =>
  lines.filter((l) => l.startsWith(`:${PREFIX}`)).map((l) => l.slice(1).split(' ')[0]!);
/** Rules of built-in chains that jump to one of ours (as saved: `-A FORWARD -j cnilab-pol-fwd`). */
const ourJumps = (lines: readonly string[]): string[] =>
  lines.filter((l) => /^-A [A-Z]+ /.test(l) && l.includes(` -j ${PREFIX}`));

async function ourSets(node: Node): Promise<string[]> {
  const r = await nodeRun(node, 'ipset', ['list', '-n']);
  return r.stdout.split('\n').filter((s) => s.startsWith(PREFIX));
}

/** What of ours the kernel holds, for a full sync. */
export async function existing(node: Node): Promise<IptExisting> {
  const lines = await saveFilter(node);
  return { chains: ourChains(lines), sets: await ourSets(node), jump: lines.includes(JUMP) };
}

/** Runs a plan: sets first (the rules name them), the one restore, then the stale sets away. */
export async function apply(node: Node, plan: IptPlan): Promise<void> {
  if (plan.ipsetBefore) await nodeRun(node, 'ipset', ['-exist', 'restore'], { input: plan.ipsetBefore });
  if (plan.restore) await nodeRun(node, 'iptables-restore', ['-w', '--noflush'], { input: plan.restore });
  if (plan.ipsetAfter) await nodeRun(node, 'ipset', ['-exist', 'restore'], { input: plan.ipsetAfter });
}

/** "filter chain cnilab-pol-fwd", "filter rule -A FORWARD -j cnilab-pol-fwd", "ipset cnilab-pol-…". */
export async function leftoversIn(node: Node): Promise<string[]> {
  const lines = await saveFilter(node);
  return [
    ...ourChains(lines).map((c) => `filter chain ${c}`),
    ...ourJumps(lines).map((l) => `filter rule ${l}`),
    ...(await ourSets(node)).map((s) => `ipset ${s}`),
  ];
}

/** Removes the jumps, the chains (flushed, then deleted) in one restore, then the sets. */
export async function removeAll(node: Node): Promise<void> {
  const lines = await saveFilter(node);
  const chains = ourChains(lines);
  const jumps = ourJumps(lines);
  if (chains.length > 0 || jumps.length > 0) {
    const text = [
      '*filter',
      ...chains.map((c) => `:${c} - [0:0]`),
      ...jumps.map((l) => l.replace(/^-A /, '-D ')),
      ...chains.map((c) => `-X ${c}`),
      'COMMIT',
    ];
    await nodeRun(node, 'iptables-restore', ['-w', '--noflush'], { input: text.join('\n') + '\n' });
  }
  const sets = await ourSets(node);
  if (sets.length > 0)
    await nodeRun(node, 'ipset', ['-exist', 'restore'], { input: sets.map((s) => `destroy ${s}`).join('\n') + '\n' });
  const left = await leftoversIn(node);
  if (left.length > 0)
    throw new CnilabError('KERNEL_FAILED', `${node.netns} still holds ${left.join('; ')} after the policy clean-up`);
}

/** "iptables v1.8.9 (nf_tables) + ipset v7.17": asking versions touches no namespace. */
export async function versions(): Promise<string> {
  const ipt = (await run('iptables', ['--version'])).stdout.trim();
  const ips = (await run('ipset', ['--version'])).stdout.trim();
  const v = /v[\d.]+/.exec(ips)?.[0] ?? ips;
  return `${ipt.replace(/^iptables\S*/, 'iptables')} + ipset ${v}`;
}
