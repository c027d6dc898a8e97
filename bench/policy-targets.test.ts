import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msStat } from '../src/run/after/ms-stat';
import type { PolicyScaleJson, PolicyScaleRule } from '../src/run/policy-scale/schema';
import { POLICY_TARGETS, policyFigures, type CatalogueFigure } from './policy-targets';
import { judge } from './targets';

// Made-up figures (not a measurement): ebpf's rate flat, iptables' realization slow at the most rules.
const rule = (n: number, rates: number[], real?: number[]): PolicyScaleRule => ({
  n,
  policies: n ? n + 1 : 0,
  applyMs: 1,
  throughput: { bitsPerSecond: 1e9, samples: [1e9] },
  crr: { perSec: rates[0]!, samples: rates, ok: 1, failed: 0 },
  connect: msStat([0.1]),
  ...(real ? { realization: msStat(real) } : {}),
  agents: [],
});
const rates = [3000, 3100, 2900, 3050, 2950];
const J: PolicyScaleJson = {
  rules: [0, 10000],
  connections: 5,
  changes: 10,
  throughputSec: 1,
  archs: [
    {
      arch: 'calico-bgp',
      family: 'l3',
      lab: 'l',
      client: 'a',
      server: 'b',
      client2: 'c',
      designs: [
        {
          design: 'iptables',
          rules: [
            rule(0, rates),
            rule(
              10000,
              rates.map((r) => r / 3),
              Array(10).fill(1500),
            ),
          ],
        },
        { design: 'nftables', rules: [rule(0, rates), rule(10000, rates, [40, 50, 60, 70, 80])] },
      ],
    },
    {
      arch: 'ebpf-native',
      family: 'native',
      lab: 'm',
      client: 'a',
      server: 'b',
      client2: 'c',
      designs: [
        {
          design: 'ebpf',
          rules: [
            rule(0, rates),
            rule(
              10000,
              rates.map((r) => r * 0.99),
              [5, 6, 7],
            ),
          ],
        },
      ],
    },
  ],
};
const CATALOGUE: CatalogueFigure[] = [
  { design: 'iptables', arch: 'calico-bgp', cases: 6, differences: 0, failing: [] },
  { design: 'nftables', arch: 'calico-bgp', cases: 6, differences: 2, failing: ['ipblock-except'] },
];

test('policy bench targets: differences per design, the eBPF CRR ratio with its interval, realization p99 per design', () => {
  const judged = judge(POLICY_TARGETS, policyFigures(CATALOGUE, J));
  const by = new Map(judged.map((j) => [j.figure, j]));
  assert.equal(by.get('iptablesDifferences')!.verdict, 'met');
  assert.equal(by.get('nftablesDifferences')!.verdict, 'MISSED');
  assert.match(by.get('nftablesDifferences')!.detail!, /differing: ipblock-except/);
  assert.equal(by.get('ebpfDifferences')!.verdict, 'not measured');
  const crr = by.get('ebpfCrrRatio')!;
  assert.ok(
    crr.value! > 0.98 && crr.value! < 1 && crr.low! <= crr.value! && crr.high! >= crr.value!,
    JSON.stringify(crr),
  );
  assert.notEqual(crr.verdict, 'MISSED');
  assert.equal(by.get('iptablesRealizationP99')!.verdict, 'MISSED');
  assert.equal(by.get('nftablesRealizationP99')!.verdict, 'exceeded');
  assert.equal(by.get('ebpfRealizationP99')!.verdict, 'exceeded');
  assert.equal(
    judge(POLICY_TARGETS, policyFigures([], undefined)).filter((j) => j.verdict !== 'not measured').length,
    0,
  );
});
