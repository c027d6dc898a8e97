import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResults } from '../src/run/results-schema';
import { ENCRYPTION_TARGETS, encryptionFigures, holeFound, type PlantedHole } from './encryption-targets';
import { judge } from './targets';

// Made-up figures (not a measurement): two proofs, one hole missed, one pair not resolved.
const ratio = (geomean: number, low: number, high: number) => ({ geomean, ci95: { low, high }, n: 5 });
const design = (a: string, b: string, verdict: string, mtu?: number, cpu?: ReturnType<typeof ratio>) => ({
  design: `${a} against ${b}`,
  a,
  b,
  path: 'inter-node',
  ...(mtu ? { underlayMtu: mtu } : {}),
  metrics: [
    { metric: 'throughput', test: 'tcp', verdict, ratio: ratio(0.03, 0.02, 0.04) },
    ...(cpu ? [{ metric: 'cpuPerGbit', test: 'tcp', verdict: 'worse', ratio: cpu }] : []),
  ],
});
const res = {
  proofs: [
    { arch: 'flannel-wireguard', wire: 'udp/51820', markers: 0, designPackets: 900, ok: true },
    { arch: 'calico-wireguard', wire: 'udp/51820', markers: 0, designPackets: 800, ok: true },
  ],
  claims: {
    designs: [
      design('flannel-wireguard', 'flannel-host-gw', 'worse', 1500),
      design('flannel-wireguard', 'flannel-host-gw', 'worse', 9000),
      design('calico-wireguard', 'calico-bgp', 'not resolved', 9000),
      design('flannel-wireguard', 'flannel-udp', 'worse', 1500, ratio(1.8, 1.25, 2.6)),
    ],
  },
} as unknown as RunResults;
const hole = (arch: string, largestPacket: number, mode: string): PlantedHole => ({
  arch,
  narrowed: 1400,
  expected: 1340,
  largestPacket,
  mode,
});

test('a planted hole is found only silent at the expected size', () => {
  assert.equal(holeFound(hole('a', 1340, 'silent')), true);
  assert.equal(holeFound(hole('a', 1340, 'loud')), false);
  assert.equal(holeFound(hole('a', 1339, 'silent')), false);
});

test('encryption figures: markers summed, holes missed, unresolved twin pairs per MTU, wireguard-go over udp', () => {
  const twins = [
    { arch: 'flannel-wireguard', twin: 'flannel-host-gw' },
    { arch: 'calico-wireguard', twin: 'calico-bgp' },
  ];
  const f = encryptionFigures(
    res,
    [hole('flannel-wireguard', 1340, 'silent'), hole('calico-bgp', 1400, 'loud')],
    twins,
  );
  const judged = Object.fromEntries(judge(ENCRYPTION_TARGETS, f).map((j) => [j.figure, j]));
  assert.equal(judged.markers!.value, 0);
  assert.equal(judged.markers!.verdict, 'met');
  assert.equal(judged.holesMissed!.value, 1);
  assert.equal(judged.holesMissed!.verdict, 'MISSED');
  assert.equal(judged.unresolved!.value, 1);
  assert.match(judged.unresolved!.detail!, /2 of 3 pairs resolved; not: calico-wireguard\/calico-bgp mtu 9000/);
  assert.deepEqual([judged.wgOverUdpCpu!.low, judged.wgOverUdpCpu!.verdict], [1.25, 'exceeded']);
});

test('nothing measured is "not measured", never met', () => {
  const empty = { claims: { designs: [] } } as unknown as RunResults;
  assert.ok(judge(ENCRYPTION_TARGETS, encryptionFigures(empty, [], [])).every((j) => j.verdict === 'not measured'));
});
