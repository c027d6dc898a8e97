import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClaimRow } from './claims';
import { serviceHops } from './service-hop';
import { judgeClaims } from './verdicts';

const row = (
  arch: string,
  path: string,
  test: string,
  values: number[],
  better: 'higher' | 'lower' = 'higher',
): ClaimRow => ({
  arch,
  path,
  test,
  params: {},
  better,
  values: values.map((value, i) => ({ value, round: i + 1, at: i })),
});

test('the Service hop: each service row over the inter-node row of its own lab, by the same rounds', () => {
  const rounds = (base: number, f: number) => Array.from({ length: 8 }, (_, i) => base * f * (1 + ((i % 3) - 1) / 200));
  const rows = [
    row('host', 'inter-node', 'crr', rounds(10000, 1)),
    row('flannel-vxlan+iptables', 'inter-node', 'crr', rounds(5000, 1)),
    row('flannel-vxlan+iptables', 'service', 'crr', rounds(5000, 0.8)),
    row('flannel-vxlan+ebpf', 'inter-node', 'crr', rounds(5000, 1)),
    row('flannel-vxlan+ebpf', 'service', 'crr', rounds(5000, 1)),
    // a service row without its direct partner is not judged
    row('calico-bgp+ebpf', 'service', 'crr', rounds(6000, 1)),
  ];
  const hops = judgeClaims(rows, 3).serviceHop;
  assert.deepEqual(
    hops.map((h) => [h.arch, h.test, h.verdict, Math.round(h.ratio.geomean * 100)]),
    [
      ['flannel-vxlan+iptables', 'crr', 'worse', 80],
      ['flannel-vxlan+ebpf', 'crr', 'equivalent', 100],
    ],
  );
  assert.ok(hops[0]!.ratio.ci95.high < 1);
  // A dry judge (it answers nothing) makes no claims.
  assert.deepEqual(
    serviceHops(rows, () => undefined),
    [],
  );
});
