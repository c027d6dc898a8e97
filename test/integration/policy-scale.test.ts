/**
 * The policy-scale test's measurement in a real lab: calico-bgp measured through both its designs
 * (iptables, then nftables) at 0 and 20 rules with few connections — figures of the right shape
 * and sane, realization measured where the server is isolated and not at 0, the agents' syncs
 * recorded; afterwards no policy left, the lab enforcing with its own design again, the pods'
 * labels as they were; nothing left after `down`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiRequest } from '../../src/apiserver/client';
import type { Pod } from '../../src/apiserver/model';
import { architectures } from '../../src/arch';
import { missingReason, probeFeatures } from '../../src/doctor/features';
import { enforcementOf, listPolicies } from '../../src/lab/policy-apply';
import { policyScaleTest } from '../../src/run/policy-scale';
import { measurePolicyScale } from '../../src/run/policy-scale/measure';
import { planPolicyScale } from '../../src/run/policy-scale/plan';
import { policyScaleLines } from '../../src/run/policy-scale/report';
import { policyScaleSchema, type PolicyScaleJson } from '../../src/run/policy-scale/schema';
import { parseTopology } from '../../src/topology/load';
import { withLab } from './helpers';

const TOPOLOGY = 'topology: {computeNodes: 2}';

/** Every figure of every design and N: of the right shape, and sane. */
function checkFigures(json: PolicyScaleJson): void {
  for (const a of json.archs)
    for (const d of a.designs) {
      assert.deepEqual(
        d.catalogue?.cases.map((c) => [c.name, c.differences, c.matrix.marks.length]),
        [['allow-from-selector', 0, 12 * 6]],
        `${d.design}: the catalogue's case first, its matrix as the oracle says`,
      );
      assert.deepEqual(
        d.rules.map((r) => r.n),
        [0, 20],
        d.design,
      );
      for (const r of d.rules) {
        const at = `${d.design} at ${r.n}`;
        assert.equal(r.policies, r.n ? 21 : 0, at);
        assert.ok(
          r.throughput.bitsPerSecond > 1e8 && r.throughput.samples.length === 5,
          `${at}: ${JSON.stringify(r.throughput)}`,
        );
        assert.ok(r.crr.perSec > 10 && r.crr.ok === 100 && r.crr.failed === 0, `${at}: ${JSON.stringify(r.crr)}`);
        assert.ok(
          r.connect.n === 100 && r.connect.p50 > 0 && r.connect.p50 < 50,
          `${at}: ${JSON.stringify(r.connect)}`,
        );
        assert.equal(r.agents.length, 2, at);
        if (r.n === 0) assert.equal(r.realization, undefined, `${at}: nothing isolates`);
        else {
          assert.equal(r.realization?.n, 3, at);
          assert.ok(r.realization.min > 0 && r.realization.max < 5000, `${at}: ${JSON.stringify(r.realization)}`);
          assert.ok(
            r.agents.some((g) => g.fillSyncs >= 1 && g.fillSyncMs > 0 && g.changeSyncMs?.n),
            `${at}: the server's agent synced the rules and each change: ${JSON.stringify(r.agents)}`,
          );
        }
      }
    }
}

test('policy-scale at 0 and 20 rules on calico-bgp, iptables and nftables: sane figures, the lab as it was', async (t) => {
  const features = await probeFeatures();
  const arch = architectures.get('calico-bgp');
  const offered = (arch.control.policy?.designs ?? []).map((d) => d.name);
  if (!offered.includes('iptables') || !offered.includes('nftables'))
    return t.skip(`calico-bgp offers ${offered.join(', ') || 'no'} designs`);
  const missing = missingReason(features, [
    ...arch.requires,
    ...arch.control.policy!.designs.flatMap((d) => d.requires),
  ]);
  if (missing) return t.skip(missing);
  const { cells, skipped } = planPolicyScale({ topology: parseTopology(TOPOLOGY, 't'), archs: [arch], features });
  assert.deepEqual(skipped, []);
  assert.deepEqual(cells[0]!.designs, ['iptables', 'nftables']);
  const settings = { rules: [0, 20], connections: 100, changes: 3, throughputSec: 1, cases: ['allow-from-selector'] };
  await withLab(
    'cnilabt-pscale',
    'calico-bgp',
    async (state) => {
      const lab = state.lab;
      const pods = async (): Promise<Pod[]> => (await apiRequest<{ pods: Pod[] }>(lab, 'GET', '/api/pods')).pods;
      const before = await pods();
      const steps: string[] = [];
      const figures = await measurePolicyScale([{ cell: { ...cells[0]!, lab }, state }], settings, {
        seed: 1,
        labNetns: () => new Set(),
        progress: (x) => steps.push(x),
      });
      const json = policyScaleSchema.parse(policyScaleTest.record(settings, figures));
      assert.deepEqual(
        json.archs.map((a) => `${a.arch}: ${a.designs.map((d) => d.design).join(',')}`),
        ['calico-bgp: iptables,nftables'],
      );
      checkFigures(json);
      assert.ok(steps.some((x) => /enforcing with nftables/.test(x)));
      assert.ok(steps.some((x) => /removing the policies it created/.test(x)));
      // The lab as it was: no policy, its own design enforcing, the pods' labels untouched.
      assert.deepEqual((await listPolicies(lab)).policies, []);
      const e = enforcementOf(lab);
      assert.ok(e.enforced && e.design === 'iptables' && e.nodes.length === 2, JSON.stringify(e));
      assert.deepEqual(await pods(), before);
      console.log(policyScaleLines(json).join('\n'));
    },
    TOPOLOGY,
  );
});
