import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../../arch';
import type { FeatureReport } from '../../doctor/features';
import { parseTopology } from '../../topology/load';
import { planMtu } from './plan';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;
const topology = parseTopology('topology: {computeNodes: 2}', 'test', { name: 'm' });
const archs = ['host', 'bridge', 'flannel-vxlan', 'calico-bgp'].map((a) => architectures.get(a));

test('every architecture with pods and an inter-node path, in the lab of each underlay MTU; the baseline left out', () => {
  const { cells, skipped } = planMtu({ topology, archs, features: ALL_OK, mtu: 1500, mtus: [1500, 9000] });
  assert.deepEqual(
    cells.map((c) => [c.arch.name, c.lab, c.mtu, c.underlayMtu, c.client, c.server]),
    [
      ['flannel-vxlan', 'flannel-vxlan mtu 1500', 1500, 1500, 'node1-p1', 'node2-p1'],
      ['flannel-vxlan', 'flannel-vxlan mtu 9000', 9000, 9000, 'node1-p1', 'node2-p1'],
      ['calico-bgp', 'calico-bgp mtu 1500', 1500, 1500, 'node1-p1', 'node2-p1'],
      ['calico-bgp', 'calico-bgp mtu 9000', 9000, 9000, 'node1-p1', 'node2-p1'],
    ],
  );
  assert.deepEqual(
    skipped.map((s) => [s.arch, s.test]),
    [['bridge', 'mtu']],
  );
  assert.match(skipped[0]!.reason, /^the probe needs an inter-node path: bridge alone does not route/);
});

test("without the MTU dimension: one lab each, the topology's underlay MTU", () => {
  const { cells } = planMtu({ topology, archs, features: ALL_OK });
  assert.deepEqual(
    cells.map((c) => [c.lab, c.mtu, c.underlayMtu]),
    [
      ['flannel-vxlan', undefined, topology.underlay.mtu],
      ['calico-bgp', undefined, topology.underlay.mtu],
    ],
  );
});
