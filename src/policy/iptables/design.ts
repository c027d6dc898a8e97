/**
 * The iptables NetworkPolicy design, Calico Felix's layout (rules.ts says how): per-pod chains in
 * the node's filter table dispatched from FORWARD, ipsets for peers. A sync is an ipset restore,
 * one `iptables-restore --noflush` and an ipset restore of what went stale (plan.ts); a partial one
 * writes only the chains and sets whose rendering changed. `ms` counts the programming (and, for a
 * full sync, reading what is there); `written` rules appended or inserted, chains deleted, set
 * members added and sets destroyed.
 */
import { timed } from '../../proxy/node-run';
import type { PolicyDesign } from '../design';
import { planSync } from './plan';
import { render } from './rules';
import { apply, existing, leftoversIn, removeAll, versions } from './tables';

export const iptablesPolicy: PolicyDesign = {
  name: 'iptables',
  summary:
    "Calico Felix's iptables layout: FORWARD → per-pod from/to-workload chains → policy chains, ipsets for peers",
  requires: ['iptables'],
  async sync(node, input, previous) {
    const { value: written, ms } = await timed(async () => {
      const there = previous ? { chains: [], sets: [], jump: true } : await existing(node);
      const plan = planSync(render(input), previous ? render(previous) : undefined, there);
      await apply(node, plan);
      return plan.written;
    });
    return { kind: previous ? 'partial' : 'full', ms, written };
  },
  cleanup: (node) => removeAll(node),
  backend: () => versions(),
  leftovers: (node) => leftoversIn(node),
};
