/** The underlay MTU as a dimension of a run: the plan, the labs' names, the pairing with host, the claims. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../arch';
import type { FeatureReport } from '../doctor/features';
import { parseTopology } from '../topology/load';
import { withUnderlay } from '../topology/schema';
import type { ClaimRow } from './claims';
import { judgeClaims } from './verdicts';
import { labName } from './labs';
import { mtuDimension, planRun } from './plan';
import { baselineOf, labSpecs } from './rounds';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;
const settings = { durationSec: 1, latencySec: 1, streams: 4, udpRateMbps: 100 };
const archs = ['host', 'flannel-vxlan'].map((n) => architectures.get(n));

test('one MTU, or the same twice, is no dimension: names and keys as before', () => {
  assert.equal(mtuDimension(undefined), undefined);
  assert.equal(mtuDimension([9000]), undefined);
  assert.equal(mtuDimension([9000, 9000]), undefined);
  assert.deepEqual(mtuDimension([1500, 9000, 1500]), [1500, 9000]);
  const plan = planRun(parseTopology('', 'd'), archs, ['inter-node'], ['tcp'], settings, ALL_OK, [9000]);
  assert.deepEqual(
    plan.rows.map((r) => [r.lab, r.key, r.cell.mtu]),
    [
      ['host', 'host inter-node tcp {"streams":1}', undefined],
      ['flannel-vxlan', 'flannel-vxlan inter-node tcp {"streams":1}', undefined],
    ],
  );
});

test('several MTUs: every cell once per MTU, MTUs adjacent, each in a lab of its own', () => {
  const plan = planRun(
    parseTopology('', 'd'),
    archs,
    ['inter-node'],
    ['tcp', 'latency'],
    settings,
    ALL_OK,
    [1500, 9000],
  );
  assert.deepEqual(
    plan.rows.map((r) => `${r.key} @ ${r.lab}${r.counted ? ' counted' : ''}`),
    [
      'host inter-node tcp {"streams":1} mtu 1500 @ host mtu 1500 counted',
      'host inter-node latency {"payloadBytes":64} mtu 1500 @ host mtu 1500',
      'host inter-node tcp {"streams":1} mtu 9000 @ host mtu 9000 counted',
      'host inter-node latency {"payloadBytes":64} mtu 9000 @ host mtu 9000',
      'flannel-vxlan inter-node tcp {"streams":1} mtu 1500 @ flannel-vxlan mtu 1500 counted',
      'flannel-vxlan inter-node latency {"payloadBytes":64} mtu 1500 @ flannel-vxlan mtu 1500',
      'flannel-vxlan inter-node tcp {"streams":1} mtu 9000 @ flannel-vxlan mtu 9000 counted',
      'flannel-vxlan inter-node latency {"payloadBytes":64} mtu 9000 @ flannel-vxlan mtu 9000',
    ],
  );
  assert.deepEqual(
    labSpecs(plan).map((l) => [l.key, l.arch.name, l.mtu]),
    [
      ['host mtu 1500', 'host', 1500],
      ['host mtu 9000', 'host', 9000],
      ['flannel-vxlan mtu 1500', 'flannel-vxlan', 1500],
      ['flannel-vxlan mtu 9000', 'flannel-vxlan', 9000],
    ],
  );
  // Each row's baseline is host at the same MTU.
  const measured = plan.rows.map((row) => ({ row }));
  for (const m of measured.filter((x) => x.row.cell.arch.name !== 'host')) {
    const b = baselineOf(measured, m, 'host')!;
    assert.equal(b.row.cell.mtu, m.row.cell.mtu);
    assert.equal(b.row.test, m.row.test);
  }
});

test("lab names: <lab>-<arch>-m<MTU>, cut to a lab name's 32 characters", () => {
  assert.equal(labName('cnilab', 'flannel-vxlan', 9000), 'cnilab-flannel-vxlan-m9000');
  assert.equal(labName('cnilab', 'flannel-vxlan'), 'cnilab-flannel-vxlan');
  const long = labName('a-very-long-lab-name-indeed', 'flannel-vxlan-direct', 1500);
  assert.equal(long, 'a-ver-flannel-vxlan-direct-m1500');
  assert.ok(long.length <= 32);
  assert.notEqual(labName('x', 'host', 1500), labName('x', 'host', 9000));
});

test('rankings and the paper orderings are per MTU; rows of two MTUs are never compared', () => {
  const v = (x: number, round = 1) => ({ value: x, round, at: round });
  const row = (arch: string, mtu: number, x: number): ClaimRow => ({
    arch,
    path: 'inter-node',
    mtu,
    test: 'tcp',
    params: { streams: 1 },
    better: 'higher',
    values: [v(x, 1), v(x * 1.01, 2), v(x * 0.99, 3)],
  });
  const rows = [
    row('macvlan', 1500, 10),
    row('flannel-vxlan', 1500, 5),
    row('macvlan', 9000, 3),
    row('flannel-vxlan', 9000, 20),
  ];
  const r = judgeClaims(rows, 3).rankings;
  assert.deepEqual(
    r.map((g) => [g.underlayMtu, g.order]),
    [
      [1500, ['macvlan', 'flannel-vxlan']],
      [9000, ['flannel-vxlan', 'macvlan']],
    ],
  );
  const p = judgeClaims(rows, 3).paper.filter((c) => c.higher === 'macvlan');
  assert.deepEqual(
    p.map((c) => [c.underlayMtu, c.verdict]),
    [
      [1500, 'holds'],
      [9000, 'reversed'],
    ],
  );
  assert.equal(judgeClaims([], 3).paper.length, 3, 'nothing measured: each ordering once, not measured');
});

test("a scenario's underlay sets the topology's lab-wide link fields; one MTU replaces the topology's", () => {
  const t = parseTopology('topology:\n  underlay: {rate: 1gbit, delay: 1ms}\n', 't');
  const u = withUnderlay(t, { mtu: 9000, link: { delay: 0, loss: 1 } });
  assert.equal(u.underlay.mtu, 9000);
  assert.deepEqual(u.underlay.link, { rateBitsPerSec: 1e9, delayUs: 0, lossPct: 1 });
  assert.deepEqual(withUnderlay(t, {}), t);
});
