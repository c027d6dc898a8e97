import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures, defaultArchitectures } from '../arch';
import type { FeatureReport } from '../doctor/features';
import { parseTopology } from '../topology/load';
import { planCells, planRun } from './plan';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;

test('the default matrix: every architecture on both paths, host once, bridge not across nodes', () => {
  const { cells, skipped } = planCells(
    parseTopology('', 'd'),
    defaultArchitectures().map((n) => architectures.get(n)),
    ['intra-node', 'inter-node'],
    ALL_OK,
  );
  assert.deepEqual(
    cells.map((c) => `${c.arch.name}/${c.path}: ${c.endpoints.client} -> ${c.endpoints.server}`),
    [
      'host/inter-node: node1 -> node2',
      'bridge/intra-node: node1-p1 -> node1-p2',
      'flannel-host-gw/intra-node: node1-p1 -> node1-p2',
      'flannel-host-gw/inter-node: node1-p1 -> node2-p1',
      'flannel-vxlan/intra-node: node1-p1 -> node1-p2',
      'flannel-vxlan/inter-node: node1-p1 -> node2-p1',
      'flannel-udp/intra-node: node1-p1 -> node1-p2',
      'flannel-udp/inter-node: node1-p1 -> node2-p1',
      'flannel-udp-offload/intra-node: node1-p1 -> node1-p2',
      'flannel-udp-offload/inter-node: node1-p1 -> node2-p1',
      'macvlan/intra-node: node1-p1 -> node1-p2',
      'macvlan/inter-node: node1-p1 -> node2-p1',
      'ipvlan/intra-node: node1-p1 -> node1-p2',
      'ipvlan/inter-node: node1-p1 -> node2-p1',
      'ebpf-native/intra-node: node1-p1 -> node1-p2',
      'ebpf-native/inter-node: node1-p1 -> node2-p1',
      'ebpf-vxlan/intra-node: node1-p1 -> node1-p2',
      'ebpf-vxlan/inter-node: node1-p1 -> node2-p1',
      'calico-bgp/intra-node: node1-p1 -> node1-p2',
      'calico-bgp/inter-node: node1-p1 -> node2-p1',
      'calico-vxlan/intra-node: node1-p1 -> node1-p2',
      'calico-vxlan/inter-node: node1-p1 -> node2-p1',
      ...['kuryr-ovs-vxlan', 'kuryr-ovs-vlan', 'kuryr-lb-vxlan', 'kuryr-lb-vlan'].flatMap((k) => [
        `${k}/intra-node: node1-p1 -> node1-p2`,
        `${k}/inter-node: node1-p1 -> node2-p1`,
      ]),
    ],
  );
  assert.deepEqual(skipped, [
    { arch: 'bridge', path: 'inter-node', reason: architectures.get('bridge').unsupported!['inter-node'] },
  ]);
});

test('the routed path: A on the first node to C on the last, Kuryr only; it needs three compute nodes', () => {
  const kuryr = [architectures.get('kuryr-ovs-vxlan'), architectures.get('flannel-vxlan')];
  const { cells, skipped } = planCells(parseTopology('', 'd'), kuryr, ['routed'], ALL_OK);
  assert.deepEqual(
    cells.map((c) => `${c.arch.name}/${c.path}: ${c.endpoints.client} -> ${c.endpoints.server}`),
    ['kuryr-ovs-vxlan/routed: node1-p1 -> node3-p1'],
  );
  assert.deepEqual(skipped, [], 'one pod network has no routed path by design: no news');
  const two = planCells(parseTopology('topology: {computeNodes: 2}', 'd'), kuryr, ['routed'], ALL_OK);
  assert.deepEqual(two.skipped, [
    { arch: 'kuryr-ovs-vxlan', path: 'routed', reason: 'needs three compute nodes: pod A, router B, pod C' },
  ]);
});

test('a missing kernel feature skips its architectures with a one-line reason', () => {
  const noVxlan = {
    ...Object.fromEntries(
      ['root', 'iproute2', 'iperf3', 'bridge', 'veth', 'macvlan', 'tun'].map((f) => [
        f,
        { feature: f, ok: true, detail: '' },
      ]),
    ),
    vxlan: { feature: 'vxlan', ok: false, detail: 'the kernel cannot create vxlan devices' },
  } as unknown as FeatureReport;
  const { skipped } = planCells(parseTopology('', 'd'), [architectures.get('flannel-vxlan')], ['inter-node'], noVxlan);
  assert.deepEqual(skipped, [{ arch: 'flannel-vxlan', reason: 'needs vxlan: the kernel cannot create vxlan devices' }]);
});

test('a topology with one pod per node cannot measure intra-node, and says so', () => {
  const t = parseTopology('topology: {defaults: {pods: 1}}', 'x');
  const { skipped } = planCells(t, [architectures.get('flannel-vxlan')], ['intra-node'], ALL_OK);
  assert.deepEqual(skipped, [{ arch: 'flannel-vxlan', path: 'intra-node', reason: 'needs two pods on node1' }]);
});

test("the rows: cell by cell, each test's rows; the first throughput row of a cell is counted", () => {
  const archs = ['host', 'flannel-vxlan'].map((n) => architectures.get(n));
  const settings = { durationSec: 2, latencySec: 1, streams: 4, udpRateMbps: 100 };
  const plan = planRun(
    parseTopology('', 'd'),
    [...archs, archs[1]!],
    ['inter-node', 'inter-node'],
    ['latency', 'tcp', 'sweep'],
    settings,
    ALL_OK,
  );
  const line = (s: (typeof plan.rows)[number]): string =>
    `${s.lab} ${s.tool} ${s.test}` +
    `${s.params.payloadBytes && s.test === 'sweep' ? ` ${s.params.payloadBytes}` : ''}` +
    `${s.counted ? ' counted' : ''}`;
  const perCell = ['sockperf latency', 'iperf3 tcp counted', ...[128, 512, 1024, 1400].map((b) => `iperf3 sweep ${b}`)];
  assert.deepEqual(
    plan.rows.map(line),
    [...perCell.map((l) => `host ${l}`), ...perCell.map((l) => `flannel-vxlan ${l}`)],
    'an architecture or path named twice is measured once',
  );
  assert.equal(new Set(plan.rows.map((r) => r.key)).size, plan.rows.length, 'every row has its own key');
  assert.deepEqual(
    plan.rows.filter((s) => s.test === 'tcp').map((s) => s.plannedSec),
    [2.4, 2.4],
  );
  const noSockperf = new Proxy(
    {},
    { get: (_t, f) => ({ feature: f, ok: f !== 'sockperf', detail: f === 'sockperf' ? 'not installed' : 'ok' }) },
  ) as FeatureReport;
  const without = planRun(parseTopology('', 'd'), archs, ['inter-node'], ['latency', 'tcp'], settings, noSockperf);
  assert.deepEqual(without.tests, ['tcp']);
  assert.deepEqual(
    without.skipped.map((s) => `${s.arch} ${s.test}: ${s.reason}`),
    ['host latency: needs sockperf: not installed', 'flannel-vxlan latency: needs sockperf: not installed'],
  );
});
