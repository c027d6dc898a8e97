import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../../arch';
import type { Architecture } from '../../arch/architecture';
import type { FeatureReport } from '../../doctor/features';
import { isCnilabError } from '../../lib/errors';
import type { PolicyDesign } from '../../policy/design';
import { parseTopology } from '../../topology/load';
import { afterSettings } from '../after';
import { policyScaleTest } from '.';
import { policyRules } from './flags';
import { planPolicyScale, POLICY_SCALE_MAX } from './plan';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;
const design = (name: string, requires: string[] = []): PolicyDesign => ({
  name,
  summary: name,
  requires,
  sync: () => Promise.resolve({ kind: 'full', ms: 0, written: 0 }),
  cleanup: () => Promise.resolve(),
  backend: () => Promise.resolve(name),
  leftovers: () => Promise.resolve([]),
});
/** `base` as it is once its kind offers `designs` (the designs land on main separately). */
const enforcing = (base: string, ...designs: PolicyDesign[]): Architecture => {
  const a = architectures.get(base);
  return { ...a, control: { ...a.control, policy: { designs } } };
};
const plain = (base: string): Architecture => {
  const a = architectures.get(base);
  return { ...a, control: { ...a.control, policy: undefined } } as Architecture;
};

test('policy-scale plan: the enforcing kinds, each with its designs; the others skipped with why', () => {
  const { cells, skipped } = planPolicyScale({
    topology: parseTopology('', 'd'),
    archs: [
      architectures.get('host'),
      plain('flannel-vxlan'),
      enforcing('calico-bgp', design('iptables'), design('nftables')),
      enforcing('ebpf-native', design('ebpf')),
    ],
    features: ALL_OK,
  });
  assert.deepEqual(
    cells.map((c) => `${c.arch.name} ${c.designs.join(',')} own ${c.own}: ${c.client} → ${c.server}, ${c.client2}`),
    [
      'calico-bgp iptables,nftables own iptables: node1-p1 → node2-p1, node1-p2',
      'ebpf-native ebpf own ebpf: node1-p1 → node2-p1, node1-p2',
    ],
  );
  assert.deepEqual(
    skipped.map((s) => `${s.arch}: ${s.reason}`),
    ['host: no pods: no NetworkPolicy to measure', 'flannel-vxlan: enforces no NetworkPolicy'],
  );
  assert.ok(skipped.every((s) => s.test === 'policy-scale'));
});

test("policy-scale plan: a design without its features left out, the lab's own design kept, too few pods skipped", () => {
  const noNft = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: f !== 'nft', detail: 'no nft' }) }) as FeatureReport;
  const calico = enforcing('calico-bgp', design('iptables'), design('nftables', ['nft']));
  const nft = parseTopology('topology: {policyDataplane: nftables}', 't');
  const p = planPolicyScale({ topology: nft, archs: [calico], features: noNft });
  assert.deepEqual(
    p.cells.map((c) => [c.designs, c.own]),
    [[['iptables'], 'nftables']],
  );
  const only = planPolicyScale({
    topology: nft,
    archs: [enforcing('calico-bgp', design('nftables', ['nft']))],
    features: noNft,
  });
  assert.equal(only.cells.length, 0);
  assert.match(only.skipped[0]!.reason, /^nftables: /);
  const none = parseTopology('topology: {policyDataplane: none}', 't');
  assert.match(
    planPolicyScale({ topology: none, archs: [calico], features: ALL_OK }).skipped[0]!.reason,
    /policyDataplane: none/,
  );
  const two = parseTopology('topology: {defaults: {pods: 1}, computeNodes: 2}', 't');
  const q = planPolicyScale({ topology: two, archs: [calico], features: ALL_OK });
  assert.deepEqual(q.cells, []);
  assert.match(q.skipped[0]!.reason, /needs three pods/);
});

test('--policy-rules: 0 allowed, sorted once, default 0,100,1000; bad input one line naming the flag', () => {
  assert.deepEqual(policyRules('1000, 0,100,0'), [0, 100, 1000]);
  assert.deepEqual(afterSettings(['policy-scale'], {}).get('policy-scale'), {
    rules: [0, 100, 1000],
    connections: 1000,
    changes: 10,
    throughputSec: 1,
  });
  assert.deepEqual(
    (afterSettings(['policy-scale'], {}, { policyRules: [20, 0] }).get('policy-scale') as { rules: number[] }).rules,
    [0, 20],
  );
  assert.deepEqual(
    (
      afterSettings(['policy-scale'], { policyRules: [5] }, { policyRules: [20, 0] }).get('policy-scale') as {
        rules: number[];
      }
    ).rules,
    [5],
  );
  assert.throws(
    () => afterSettings(['tcp'], { policyRules: [1] }),
    (e: unknown) =>
      isCnilabError(e, 'INVALID_INPUT') &&
      e.message === '--policy-rules: only with the policy-scale test; add it: --tests tcp,policy-scale',
  );
  for (const bad of ['-1', '1.5', 'many', '', ',', String(POLICY_SCALE_MAX + 1), '1e3'])
    assert.throws(
      () => policyRules(bad),
      (e: unknown) => isCnilabError(e, 'INVALID_INPUT') && /^--policy-rules: [^\n]+$/.test(e.message),
      bad,
    );
  assert.equal(policyRules('10000').at(-1), POLICY_SCALE_MAX);
  const flag = policyScaleTest.flags[0]!;
  assert.equal(flag.key, 'policyRules');
  assert.equal(flag.scenario.safeParse([0, 10000]).success, true);
  assert.equal(flag.scenario.safeParse([10001]).success, false);
  assert.equal(flag.scenario.safeParse([-1]).success, false);
});

test("policy-scale plan: a topology whose pods or underlay sit in the fillers' range is refused", () => {
  const t = parseTopology('topology: {podCidr: 100.64.0.0/16}', 't');
  assert.throws(
    () =>
      policyScaleTest.plan(
        { topology: t, archs: [enforcing('calico-bgp', design('iptables'))], features: ALL_OK },
        { rules: [0], connections: 1, changes: 1, throughputSec: 1 },
      ),
    (e: unknown) => isCnilabError(e, 'INVALID_INPUT') && /100\.64\.0\.0\/16 is in 100\.64\.0\.0\/10/.test(e.message),
  );
});
