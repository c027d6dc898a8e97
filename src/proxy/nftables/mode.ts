/**
 * The nftables mode: kube-proxy's nftables proxier. Each sync is one `nft -f -` transaction in the
 * node's namespace (rules.ts writes it): all of the table or none of it. `ms` is that
 * transaction's wall time; `written` its rules, elements and deletions.
 */
import { CnilabError } from '../../lib/errors';
import { run } from '../../lib/exec';
import type { ProxyMode, ProxyNode } from '../mode';
import { nodeRun, timed } from '../node-run';
import { planSync } from '../plan';
import { nftScript, TABLE } from './rules';

/** The node's kube-proxy table, listed; '' when there is none. */
async function listTable(node: Pick<ProxyNode, 'netns'>): Promise<string> {
  const r = await nodeRun(node, 'nft', ['list', 'table', ...TABLE.split(' ')], { check: false });
  if (r.code === 0) return r.stdout;
  if (/No such file or directory/.test(r.stderr)) return '';
  throw new CnilabError('KERNEL_FAILED', `nft list table ${TABLE} in ${node.netns} failed: ${r.stderr.trim()}`);
}

export const nftablesMode: ProxyMode = {
  name: 'nftables',
  translates: 'netfilter',
  summary: "kube-proxy's nftables mode: one table, a service-ips verdict map → numgen cascade → dnat, one transaction",
  requires: ['nftables'],
  async sync(node, input, previous) {
    const plan = planSync(input, previous);
    const { text, written } = nftScript(input, plan);
    const { ms } = await timed(() => nodeRun(node, 'nft', ['-f', '-'], { input: text }));
    return { kind: plan.kind, ms, written };
  },
  async cleanup(node) {
    await nodeRun(node, 'nft', ['-f', '-'], { input: `add table ${TABLE}\ndelete table ${TABLE}\n` });
  },
  async backend() {
    const out = (await run('nft', ['--version'])).stdout.trim();
    return /v[\d.]+/.exec(out) ? `nft ${/v[\d.]+/.exec(out)![0]}` : out;
  },
  async leftovers(node) {
    return (await listTable(node)) ? [`nftables table ${TABLE}`] : [];
  },
};
