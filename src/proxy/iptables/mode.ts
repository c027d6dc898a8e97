/**
 * The iptables mode: kube-proxy's iptables proxier. Each sync is one `iptables-restore -w
 * --noflush` in the node's namespace (rules.ts writes it); a full sync also reads the existing
 * KUBE-SVC/KUBE-SEP chains first (to delete the stale ones) and inserts the jumps from the
 * built-in chains that are missing. `ms` counts all of that; `written` the rules appended and
 * chains deleted.
 */
import type { ProxyMode } from '../mode';
import { timed } from '../node-run';
import { planSync } from '../plan';
import { restoreText } from './rules';
import { chainsIn, ensureJumps, iptablesVersion, JUMPS, leftoversIn, removeAll, restore, save } from './tables';

export const iptablesMode: ProxyMode = {
  name: 'iptables',
  translates: 'netfilter',
  summary: "kube-proxy's iptables mode: KUBE-SERVICES → KUBE-SVC (random spread) → KUBE-SEP (DNAT), one restore",
  requires: ['iptables'],
  async sync(node, input, previous) {
    const plan = planSync(input, previous);
    const { value: written, ms } = await timed(async () => {
      const nat = plan.kind === 'full' ? ((await save(node)).get('nat') ?? []) : [];
      const existing = [...chainsIn(nat, 'KUBE-SVC-'), ...chainsIn(nat, 'KUBE-SEP-')];
      const out = restoreText(input, plan, existing);
      await restore(node, out.text);
      if (plan.kind === 'full') await ensureJumps(node, JUMPS);
      return out.written;
    });
    return { kind: plan.kind, ms, written };
  },
  cleanup: (node) => removeAll(node),
  backend: () => iptablesVersion(),
  leftovers: (node) => leftoversIn(node),
};
