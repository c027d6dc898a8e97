import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCnilabError } from '../../lib/errors';
import { POD_LABEL } from '../../apiserver/model';
import {
  checkFillerRange,
  createdKeys,
  CRR_PORT,
  fillerPolicies,
  IPERF_PORT,
  policiesAt,
  PROBE_POLICY,
  REALIZE_POLICY,
  realizePolicy,
} from './policies';

test('fillers: N policies selecting the server, distinct /32s of 100.64.0.0/10, names sorting before the probe', () => {
  const ps = policiesAt(1000, 'node2-p1', 'node1-p1');
  assert.equal(ps.length, 1001);
  assert.equal(ps.at(-1)!.name, PROBE_POLICY);
  const names = ps.map((p) => p.name);
  assert.deepEqual([...names].sort(), names, 'created in name order, the probe last');
  assert.ok(REALIZE_POLICY > PROBE_POLICY, 'the realization policy sorts after the probe');
  const peers = ps.slice(0, -1).map((p) => p.ingress[0]!.peers![0]!.ipBlock!.cidr);
  assert.equal(new Set(peers).size, 1000);
  assert.ok(
    peers.every((c) => /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+\/32$/.test(c)),
    peers[999],
  );
  assert.equal(peers[0], '100.64.0.1/32');
  assert.equal(peers[299], '100.64.1.44/32');
  for (const p of ps) {
    assert.deepEqual(p.podSelector, { matchLabels: { [POD_LABEL]: 'node2-p1' } });
    assert.deepEqual(p.policyTypes, ['Ingress']);
    assert.equal(p.ingress.length, 1);
    assert.deepEqual(p.egress, []);
  }
  assert.deepEqual(ps[0]!.ingress[0]!.ports, [{ protocol: 'tcp', port: CRR_PORT }]);
  const probe = ps.at(-1)!.ingress[0]!;
  assert.deepEqual(probe.peers, [{ podSelector: { matchLabels: { [POD_LABEL]: 'node1-p1' } } }]);
  assert.deepEqual(
    probe.ports!.map((p) => p.port),
    [CRR_PORT, IPERF_PORT],
  );
  assert.deepEqual(realizePolicy('s', 'c2').ingress[0]!.peers, [
    { podSelector: { matchLabels: { [POD_LABEL]: 'c2' } } },
  ]);
});

test('fillers: none at N = 0; a range of them continues the numbering; the keys of what was made', () => {
  assert.deepEqual(policiesAt(0, 's', 'c'), []);
  assert.deepEqual(
    fillerPolicies(101, 103, 's').map((p) => p.name),
    ['pscale-f00101', 'pscale-f00102', 'pscale-f00103'],
  );
  assert.deepEqual(fillerPolicies(5, 4, 's'), []);
  assert.deepEqual(policiesAt(10_000, 's', 'c').at(-2)!.ingress[0]!.peers![0]!.ipBlock!.cidr, '100.64.39.16/32');
  assert.deepEqual(createdKeys(2, true, true), [
    'default/pscale-f00001',
    'default/pscale-f00002',
    'default/zz-pscale-probe',
    'default/zz-pscale-realize',
  ]);
  assert.deepEqual(createdKeys(0, false, false), []);
});

test("a lab whose addresses fall in the fillers' range is refused, one line naming the address", () => {
  checkFillerRange('l', ['10.244.1.2'], ['10.244.0.0/16', '198.18.0.0/24']);
  for (const [addrs, cidrs, bad] of [
    [['100.64.0.7'], [], '100.64.0.7'],
    [[], ['100.0.0.0/8'], '100.0.0.0/8'],
  ] as const)
    assert.throws(
      () => checkFillerRange('l', addrs, cidrs),
      (e: unknown) =>
        isCnilabError(e, 'INVALID_INPUT') &&
        e.message.startsWith(`lab l: ${bad} is in 100.64.0.0/10`) &&
        !e.message.includes('\n'),
    );
});
