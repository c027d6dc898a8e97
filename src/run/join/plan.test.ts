import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../../arch';
import type { FeatureReport } from '../../doctor/features';
import { parseTopology } from '../../topology/load';
import { planJoin } from './plan';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;
const arch = (n: string) => architectures.get(n);

const joinPlanTitle =
  "join plan: one lab per architecture that can join nodes, in the MTU dimension's first lab; the baseline " +
  'skipped with why';
test(joinPlanTitle, () => {
  const { cells, skipped } = planJoin({
    topology: parseTopology('', 'd'),
    archs: ['host', 'calico-bgp', 'flannel-host-gw', 'calico-bgp'].map(arch),
    features: ALL_OK,
  });
  assert.deepEqual(
    cells.map((c) => `${c.arch.name} ${c.lab}`),
    ['calico-bgp calico-bgp', 'flannel-host-gw flannel-host-gw'],
  );
  assert.deepEqual(
    skipped.map((s) => `${s.arch} ${s.test}`),
    ['host join'],
  );
  assert.match(skipped[0]!.reason, /no control plane to join/);
  assert.equal(
    planJoin({ topology: parseTopology('', 'd'), archs: [arch('calico-vxlan')], features: ALL_OK, mtu: 9000 }).cells[0]!
      .lab,
    'calico-vxlan mtu 9000',
  );
});

test('join plan: without a pod to ping from, skipped with why; a missing feature is left to the run', () => {
  const empty = parseTopology('topology: {nodes: {control: {role: control}, node1: {role: compute, pods: 0}}}', 't');
  const { cells, skipped } = planJoin({ topology: empty, archs: [arch('calico-bgp')], features: ALL_OK });
  assert.deepEqual(cells, []);
  assert.deepEqual(skipped, [
    { arch: 'calico-bgp', test: 'join', reason: 'no pod on a compute node to ping the new node from' },
  ]);
  const noBird = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: f !== 'bird', detail: 'no' }) }) as FeatureReport;
  assert.deepEqual(planJoin({ topology: parseTopology('', 'd'), archs: [arch('calico-bgp')], features: noBird }), {
    cells: [],
    skipped: [],
  });
});
