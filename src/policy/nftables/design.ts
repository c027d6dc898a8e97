/**
 * The nftables NetworkPolicy design: Felix's layout in a table of its own (rules.ts says how),
 * verdict maps keyed by pod address for the dispatch, peers in the rules. Each sync is one
 * `nft -f -` transaction in the node's namespace: all of it or none. `ms` is that transaction's
 * wall time; `written` its rules, elements and deletions.
 */
import { CnilabError } from '../../lib/errors';
import { run } from '../../lib/exec';
import { nodeRun, timed } from '../../proxy/node-run';
import type { PolicyDesign, PolicyNode } from '../design';
import { nftScript, render, TABLE } from './rules';

async function tableThere(node: Pick<PolicyNode, 'netns' | 'timeoutMs'>): Promise<boolean> {
  const r = await nodeRun(node, 'nft', ['list', 'table', ...TABLE.split(' ')], { check: false });
  if (r.code === 0) return true;
  if (/No such file or directory/.test(r.stderr)) return false;
  throw new CnilabError('KERNEL_FAILED', `nft list table ${TABLE} in ${node.netns} failed: ${r.stderr.trim()}`);
}

export const nftablesPolicy: PolicyDesign = {
  name: 'nftables',
  summary:
    "Felix's layout in nftables: a forward chain, verdict maps by pod address → per-pod chains, peers in the rules",
  requires: ['nftables'],
  async sync(node, input, previous) {
    const { text, written } = nftScript(render(input), previous ? render(previous) : undefined);
    // Nothing changed: no transaction at all.
    if (!text.trim()) return { kind: 'partial', ms: 0, written: 0 };
    const { ms } = await timed(() => nodeRun(node, 'nft', ['-f', '-'], { input: text }));
    return { kind: previous ? 'partial' : 'full', ms, written };
  },
  async cleanup(node) {
    await nodeRun(node, 'nft', ['-f', '-'], { input: `add table ${TABLE}\ndelete table ${TABLE}\n` });
  },
  async backend() {
    const out = (await run('nft', ['--version'])).stdout.trim();
    const v = /v[\d.]+/.exec(out);
    return v ? `nft ${v[0]}` : out;
  },
  async leftovers(node) {
    return (await tableThere(node)) ? [`nftables table ${TABLE}`] : [];
  },
};
