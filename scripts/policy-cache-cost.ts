/**
 * Why a NetworkPolicy change is slow through the netfilter designs at 10,000 policies: the time of
 * the tools' own read of the ruleset, which each write pays before it applies anything. Builds a
 * calico-bgp lab (cnilabt-pcache), applies N policies selecting one pod (policy-scale's fillers),
 * then on the server's node times, for each design: the design's whole sync of one more policy, and
 * of one more named to sort after every other (its agent's syncs.jsonl), and the bare read — `iptables-save -t filter` and `ipset list -n` for
 * iptables, `nft list table ip cnilab-policy` for nftables — and a restore that changes nothing.
 * The lab goes down at the end, whatever happens.
 *
 *   npm run build && flock /tmp/cnilab-itest.lock node dist/scripts/policy-cache-cost.js [N]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { up, down } from '../src/lab/lab';
import { applyPolicies, deletePolicies } from '../src/lab/policy-apply';
import { policyDir, switchPolicyDesign } from '../src/lab/policy';
import { nodeNetns } from '../src/lab/names';
import { runIn } from '../src/lib/netns';
import { parseTopology } from '../src/topology/load';
import { fillerPolicies, probePolicy } from '../src/run/policy-scale/policies';
import { policyKey } from '../src/policy/model';

const N = Number(process.argv[2] ?? 10_000);
const LAB = 'cnilabt-pcache';

async function timed(ns: string, cmd: string, args: string[], input?: string): Promise<number> {
  const t0 = performance.now();
  await runIn({ name: ns }, cmd, args, input === undefined ? {} : { input });
  return performance.now() - t0;
}

function lastSync(lab: string, node: string): { ms: number; written: number } {
  const lines = readFileSync(join(policyDir(lab, node), 'syncs.jsonl'), 'utf8')
    .trim()
    .split('\n');
  return JSON.parse(lines.at(-1)!) as { ms: number; written: number };
}

async function main(): Promise<void> {
  const state = await up({
    topology: parseTopology('topology: {computeNodes: 2}', 'script', { name: LAB }),
    arch: 'calico-bgp',
  });
  try {
    const server = state.pods.find((p) => p.node === 'node2')!;
    const client = state.pods.find((p) => p.node === 'node1')!;
    const ns = nodeNetns(LAB, server.node);
    const base = [...fillerPolicies(1, N, server.name), probePolicy(server.name, client.name)];
    for (const design of ['iptables', 'nftables']) {
      await switchPolicyDesign(LAB, design);
      await applyPolicies(LAB, base);
      const one = fillerPolicies(N + 1, N + 1, server.name);
      await applyPolicies(LAB, one);
      const sync = lastSync(LAB, server.node);
      // one more again, named to sort after every other: its jump goes at the end of the pod's chain
      const last = fillerPolicies(N + 2, N + 2, server.name).map((p) => ({ ...p, name: 'zzz-last' }));
      await applyPolicies(LAB, last);
      const syncLast = lastSync(LAB, server.node);
      one.push(...last);
      const reads =
        design === 'iptables'
          ? {
              'iptables-save -t filter': await timed(ns, 'iptables-save', ['-t', 'filter']),
              'ipset list -n': await timed(ns, 'ipset', ['list', '-n']),
              'iptables-restore --noflush (nothing)': await timed(
                ns,
                'iptables-restore',
                ['-w', '--noflush'],
                '*filter\nCOMMIT\n',
              ),
            }
          : {
              'nft list table ip cnilab-policy': await timed(ns, 'nft', ['list', 'table', 'ip', 'cnilab-policy']),
              'nft -f (an empty transaction)': await timed(ns, 'nft', ['-f', '-'], 'add table ip cnilab-policy\n'),
              'nft -f (one rule appended to a chain)': await timed(
                ns,
                'nft',
                ['-f', '-'],
                'add chain ip cnilab-policy cnilabt-x\nadd rule ip cnilab-policy cnilabt-x counter\n',
              ),
              'nft -f (a new set, and a rule naming it)': await timed(
                ns,
                'nft',
                ['-f', '-'],
                'add set ip cnilab-policy cnilabt-s { type ipv4_addr; flags interval; }\n' +
                  'add element ip cnilab-policy cnilabt-s { 100.127.0.1 }\n' +
                  'add rule ip cnilab-policy cnilabt-x ip saddr @cnilabt-s counter\n',
              ),
              'nft -f (one rule jumping to a new chain)': await timed(
                ns,
                'nft',
                ['-f', '-'],
                'add chain ip cnilab-policy cnilabt-y\nadd rule ip cnilab-policy cnilabt-x jump cnilabt-y\n',
              ),
            };
      const r = (x: number): number => Math.round(x);
      process.stdout.write(
        `${design} at ${N} policies: the sync of one more: ${r(sync.ms)} ms (${sync.written} written); ` +
          `of one more sorting last: ${r(syncLast.ms)} ms (${syncLast.written} written); ` +
          Object.entries(reads)
            .map(([k, v]) => `${k}: ${r(v)} ms`)
            .join('; ') +
          '\n',
      );
      await deletePolicies(LAB, [...base, ...one].map(policyKey));
    }
  } finally {
    await down(LAB);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`policy-cache-cost: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
