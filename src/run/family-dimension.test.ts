/** The IP family as a dimension of a run: the plan, the skips, the labs' names, the pairing with host, the claims. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../arch';
import type { FeatureReport } from '../doctor/features';
import { parseTopology } from '../topology/load';
import { familyMismatch } from '../traffic/iperf3/parse';
import type { ClaimRow } from './claims';
import { judgeClaims } from './verdicts';
import { labName } from './labs';
import { familyDimension, planRun } from './plan';
import { baselineOf, labSpecs } from './rounds';
import { topologyOfRun } from './run';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;
const settings = { durationSec: 1, latencySec: 1, streams: 4, udpRateMbps: 100 };
const archs = ['host', 'kuryr-ovs-vxlan'].map((n) => architectures.get(n));

test('one family, or the same twice, is no dimension: names and keys as before', () => {
  assert.equal(familyDimension(undefined), undefined);
  assert.equal(familyDimension([6, 6]), undefined);
  assert.deepEqual(familyDimension([4, 6, 4]), [4, 6]);
  const plan = planRun(parseTopology('', 'd'), [archs[0]!], ['inter-node'], ['tcp'], settings, ALL_OK, undefined, [6]);
  assert.deepEqual(
    plan.rows.map((r) => [r.lab, r.key, r.cell.ipFamily]),
    [['host', 'host inter-node tcp {"streams":1}', undefined]],
  );
  // One --ip-family is the topology's family: its labs single-stack in it.
  assert.deepEqual(topologyOfRun({ topology: parseTopology('', 'd'), ipFamilies: [6] }).ipFamilies, [6]);
});

test('two families: every cell once per family, adjacent, each in a lab of its own; IPv4-only kinds skip IPv6 with their reason', () => {
  const plan = planRun(
    parseTopology('', 'd'),
    archs,
    ['inter-node'],
    ['tcp', 'latency'],
    settings,
    ALL_OK,
    undefined,
    [4, 6],
  );
  assert.deepEqual(
    plan.rows.map((r) => `${r.key} @ ${r.lab} v${r.ipFamily}`),
    [
      'host inter-node tcp {"streams":1} IPv4 @ host IPv4 v4',
      'host inter-node latency {"payloadBytes":64} IPv4 @ host IPv4 v4',
      'host inter-node tcp {"streams":1} IPv6 @ host IPv6 v6',
      'kuryr-ovs-vxlan inter-node tcp {"streams":1} IPv4 @ kuryr-ovs-vxlan IPv4 v4',
      'kuryr-ovs-vxlan inter-node latency {"payloadBytes":64} IPv4 @ kuryr-ovs-vxlan IPv4 v4',
    ],
  );
  assert.deepEqual(
    plan.skipped.map((s) => [s.arch, s.test, s.ipFamily, s.reason]),
    [
      ['kuryr-ovs-vxlan', undefined, 6, plan.skipped[0]!.reason],
      ['host', 'latency', 6, plan.skipped[1]!.reason],
    ],
  );
  assert.match(plan.skipped[0]!.reason, /^ipFamilies: Kuryr is IPv4 only here, as in the paper/);
  assert.match(plan.skipped[1]!.reason, /sockperf .*IPv4 addresses only/);
  assert.deepEqual(
    labSpecs(plan).map((l) => [l.key, l.ipFamily]),
    [
      ['host IPv4', 4],
      ['host IPv6', 6],
      ['kuryr-ovs-vxlan IPv4', 4],
    ],
  );
  const measured = plan.rows.map((row) => ({ row }));
  for (const m of measured.filter((x) => x.row.cell.arch.name !== 'host')) {
    const b = baselineOf(measured, m, 'host')!;
    assert.equal(b.row.cell.ipFamily, m.row.cell.ipFamily, 'paired with host of the same family');
  }
});

test('a topology of [ipv6] alone: IPv4-only kinds are skipped at once, and sockperf rows too', () => {
  const t = parseTopology('topology:\n  ipFamilies: [ipv6]\n', 't');
  const plan = planRun(t, archs, ['inter-node'], ['tcp', 'latency'], settings, ALL_OK);
  assert.deepEqual(
    plan.rows.map((r) => [r.key, r.ipFamily]),
    [['host inter-node tcp {"streams":1}', 6]],
  );
  assert.deepEqual(
    plan.skipped.map((s) => [s.arch, s.test]),
    [
      ['kuryr-ovs-vxlan', undefined],
      ['host', 'latency'],
    ],
  );
});

test('rtt (iperf2) has rows in both families where latency (sockperf) has IPv4 only, its skip pointing to rtt', () => {
  const plan = planRun(
    parseTopology('', 'd'),
    [archs[0]!],
    ['inter-node'],
    ['latency', 'rtt'],
    settings,
    ALL_OK,
    undefined,
    [4, 6],
  );
  assert.deepEqual(
    plan.rows.map((r) => [r.test, r.tool, r.ipFamily, r.plannedSec]),
    [
      ['latency', 'sockperf', 4, 1.25],
      ['rtt', 'iperf2', 4, 1.4],
      ['rtt', 'iperf2', 6, 1.4],
    ],
  );
  assert.deepEqual(
    plan.skipped.map((s) => [s.arch, s.test, s.ipFamily]),
    [['host', 'latency', 6]],
  );
  assert.match(plan.skipped[0]!.reason, /IPv4 addresses only; use --tests rtt for round trips in both families$/);
  const noIperf2 = new Proxy(
    {},
    { get: (_t, f) => ({ feature: f, ok: f !== 'iperf2', detail: f === 'iperf2' ? 'iperf is not installed' : 'ok' }) },
  ) as FeatureReport;
  const without = planRun(parseTopology('', 'd'), [archs[0]!], ['inter-node'], ['rtt', 'tcp'], settings, noIperf2);
  assert.deepEqual(without.tests, ['tcp']);
  assert.deepEqual(
    without.skipped.map((s) => `${s.arch} ${s.test}: ${s.reason}`),
    ['host rtt: needs iperf2: iperf is not installed'],
  );
});

test("lab names: <lab>-<arch>-v<family>, after the MTU's, within 32 characters", () => {
  assert.equal(labName('cnilab', 'flannel-vxlan', undefined, 6), 'cnilab-flannel-vxlan-v6');
  assert.equal(labName('cnilab', 'flannel-vxlan', 9000, 4), 'cnilab-flannel-vxlan-m9000-v4');
  assert.ok(labName('a-very-long-lab-name-indeed', 'flannel-vxlan-direct', 1500, 6).length <= 32);
});

test('IPv6 against its IPv4 twin: judged per architecture, path and test; the rankings and the paper per family', () => {
  const v = (x: number, round: number) => ({ value: x, round, at: round });
  const row = (arch: string, ipFamily: 4 | 6, x: number): ClaimRow => ({
    arch,
    path: 'inter-node',
    ipFamily,
    test: 'tcp',
    params: { streams: 1 },
    better: 'higher',
    values: [1, 2, 3, 4, 5].map((r) => v(x * (1 + ((r % 3) - 1) * 0.005), r)),
  });
  const rows = [row('macvlan', 4, 10), row('flannel-vxlan', 4, 5), row('macvlan', 6, 8), row('flannel-vxlan', 6, 5)];
  const c = judgeClaims(rows, 3);
  assert.deepEqual(
    c.families.map((f) => [f.arch, f.verdict, Math.round(f.ratio.geomean * 100)]),
    [
      ['macvlan', 'worse', 80],
      ['flannel-vxlan', 'equivalent', 100],
    ],
  );
  assert.deepEqual(
    c.rankings.map((g) => [g.ipFamily, g.order]),
    [
      [4, ['macvlan', 'flannel-vxlan']],
      [6, ['macvlan', 'flannel-vxlan']],
    ],
  );
  assert.deepEqual(
    c.paper.filter((p) => p.higher === 'macvlan').map((p) => [p.ipFamily, p.verdict]),
    [
      [4, 'holds'],
      [6, 'holds'],
    ],
  );
});

test("iperf3's connections are checked against the family asked: a fallback to IPv4 fails", () => {
  const out = (local: string, remote: string): string =>
    JSON.stringify({ start: { connected: [{ local_host: local, remote_host: remote }] } });
  assert.equal(familyMismatch(out('fd00::2', 'fd00::3'), 'fd00::3'), undefined);
  assert.equal(familyMismatch(out('10.0.0.2', '10.0.0.3'), '10.0.0.3'), undefined);
  assert.match(familyMismatch(out('10.0.0.2', '10.0.0.3'), 'fd00::3')!, /ran over IPv4 .* not the IPv6 of fd00::3/);
  assert.match(familyMismatch(out('::ffff:10.0.0.2', '::ffff:10.0.0.3'), 'fd00::3')!, /ran over IPv4/);
  assert.match(familyMismatch(JSON.stringify({ start: {} }), 'fd00::3')!, /no connection/);
});
