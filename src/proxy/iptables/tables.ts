/**
 * The iptables side of the kernel, for the iptables mode and the ipvs mode (which needs the same
 * masquerade and filter chains): restores, the jumps from the built-in chains, what is there,
 * and taking it all away. Every command runs in the node's namespace (../node-run.ts).
 */
import { CnilabError } from '../../lib/errors';
import { run } from '../../lib/exec';
import type { ProxyNode } from '../mode';
import { nodeRun } from '../node-run';
import { largestFirst } from './rules';

/** A jump from a built-in chain to one of ours, as kube-proxy inserts it (first in the chain). */
export interface Jump {
  readonly table: 'nat' | 'filter';
  readonly from: string;
  readonly to: string;
  /** The matches before `-j`, as argv. */
  readonly match: readonly string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];
const note = (text: string): string[] => ['-m', 'comment', '--comment', text];

/** kube-proxy's jumps for ClusterIP Services: the nat portals and postrouting, the filter checks. */
export const JUMPS: readonly Jump[] = [
  { table: 'nat', from: 'PREROUTING', to: 'KUBE-SERVICES', match: note('kubernetes service portals') },
  { table: 'nat', from: 'OUTPUT', to: 'KUBE-SERVICES', match: note('kubernetes service portals') },
  { table: 'nat', from: 'POSTROUTING', to: 'KUBE-POSTROUTING', match: note('kubernetes postrouting rules') },
  ...(['INPUT', 'FORWARD'] as const).map((from) => ({
    table: 'filter' as const,
    from,
    to: 'KUBE-EXTERNAL-SERVICES',
    match: [...NEW, ...note('kubernetes externally-visible service portals')],
  })),
  ...(['FORWARD', 'OUTPUT'] as const).map((from) => ({
    table: 'filter' as const,
    from,
    to: 'KUBE-SERVICES',
    match: [...NEW, ...note('kubernetes service portals')],
  })),
  { table: 'filter', from: 'FORWARD', to: 'KUBE-FORWARD', match: note('kubernetes forwarding rules') },
];

/** One iptables-restore transaction, leaving every chain it does not declare alone. */
export async function restore(node: Pick<ProxyNode, 'netns'>, text: string): Promise<void> {
  await nodeRun(node, 'iptables-restore', ['-w', '--noflush'], { input: text });
}

/** Inserts each jump missing from its built-in chain (iptables -C, then -I), as kube-proxy's EnsureRule. */
export async function ensureJumps(node: Pick<ProxyNode, 'netns'>, jumps: readonly Jump[]): Promise<void> {
  for (const j of jumps) {
    const spec = [...j.match, '-j', j.to];
    const there = await nodeRun(node, 'iptables', ['-w', '-t', j.table, '-C', j.from, ...spec], { check: false });
    if (there.code !== 0) await nodeRun(node, 'iptables', ['-w', '-t', j.table, '-I', j.from, ...spec]);
  }
}

/** `iptables-save` of the node, by table: its lines. */
export async function save(node: Pick<ProxyNode, 'netns'>): Promise<Map<string, string[]>> {
  const r = await nodeRun(node, 'iptables-save', []);
  const tables = new Map<string, string[]>();
  let lines: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('*')) tables.set(line.slice(1), (lines = []));
    else if (line && !line.startsWith('#') && line !== 'COMMIT') lines.push(line);
  }
  return tables;
}

/** The chains of a saved table whose names start with `prefix`. */
export const chainsIn = (lines: readonly string[], prefix: string): string[] =>
  lines.filter((l) => l.startsWith(`:${prefix}`)).map((l) => l.slice(1).split(' ')[0]!);

/** The rules of a saved table that jump to a KUBE- chain from a built-in one. */
const kubeJumps = (lines: readonly string[]): string[] =>
  lines.filter((l) => /^-A [A-Z]+ /.test(l) && !l.startsWith('-A KUBE-') && / -j KUBE-\S+$/.test(l));

/** What of kube-proxy's is in the node's nat and filter tables: "nat chain KUBE-SERVICES", "filter rule -A …". */
export async function leftoversIn(node: Pick<ProxyNode, 'netns'>): Promise<string[]> {
  const tables = await save(node);
  const out: string[] = [];
  for (const t of ['nat', 'filter']) {
    const lines = tables.get(t) ?? [];
    out.push(
      ...chainsIn(lines, 'KUBE-').map((c) => `${t} chain ${c}`),
      ...kubeJumps(lines).map((l) => `${t} rule ${l}`),
    );
  }
  return out;
}

/**
 * Removes every KUBE- chain of nat and filter and every jump to one, in one restore: the jumps
 * deleted as iptables-save printed them, the chains declared (so flushed; largest name first, as
 * rules.ts does), then deleted.
 */
export async function removeAll(node: Pick<ProxyNode, 'netns'>): Promise<void> {
  const tables = await save(node);
  const text: string[] = [];
  for (const t of ['nat', 'filter']) {
    const lines = tables.get(t) ?? [];
    const chains = largestFirst(chainsIn(lines, 'KUBE-'));
    const jumps = kubeJumps(lines);
    if (chains.length === 0 && jumps.length === 0) continue;
    // Line by line: 100,000s of chains spread into push() would overflow the stack.
    text.push(`*${t}`);
    for (const c of chains) text.push(`:${c} - [0:0]`);
    for (const l of jumps) text.push(l.replace(/^-A /, '-D '));
    for (const c of chains) text.push(`-X ${c}`);
    text.push('COMMIT');
  }
  if (text.length > 0) await restore(node, text.join('\n') + '\n');
  const left = await leftoversIn(node);
  if (left.length > 0)
    throw new CnilabError('KERNEL_FAILED', `iptables in ${node.netns} still holds ${left.join('; ')} after clean-up`);
}

/**
 * What runs under `iptables` here: "iptables 1.8.9 (nf_tables: iptables-nft)" or "… (legacy:
 * iptables-legacy)" — Debian's default is iptables-nft. Asking the version touches no namespace.
 */
export async function iptablesVersion(): Promise<string> {
  const out = (await run('iptables', ['--version'])).stdout.trim();
  const m = /v([\d.]+)(?: \((\w+)\))?/.exec(out);
  if (!m) return out;
  const backend = m[2] ?? 'legacy';
  return `iptables ${m[1]} (${backend}: ${backend === 'nf_tables' ? 'iptables-nft' : 'iptables-legacy'})`;
}
