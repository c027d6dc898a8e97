import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msStat } from '../src/run/after/ms-stat';
import type { ServiceScaleJson } from '../src/run/service-scale/schema';
import { percentileInterval, ratioInterval, SERVICE_TARGETS, serviceFigures } from './service-targets';
import { judge } from './targets';

// Made-up samples (not a measurement): iptables grows 3×, nftables stays flat.
const line = (n: number, fp: number[], prog: number[]) => ({
  n,
  fillers: n - 1,
  createMs: 1,
  syncedMs: 1,
  firstPacket: msStat(fp),
  failed: 0,
  crr: { perSec: 1, concurrency: 4, ok: 1, failed: 0 },
  programming: msStat(prog),
  agents: [],
});
const flat = Array.from({ length: 200 }, (_, i) => 0.2 + (i % 10) / 100);
const arch = (proxy: string, k: number, prog: number) => ({
  arch: `flannel-vxlan+${proxy}`,
  family: 'overlay' as const,
  proxy,
  lab: 'l',
  client: 'a',
  backends: ['b', 'c'],
  counts: [
    line(1, flat, [prog]),
    line(
      30000,
      flat.map((x) => x * k),
      [prog, prog + 1],
    ),
  ],
});
const J: ServiceScaleJson = {
  counts: [1, 30000],
  connections: 200,
  changes: 2,
  archs: [arch('iptables', 3, 500), arch('nftables', 1, 40), arch('ebpf', 0.9, 20)],
};

test('service bench: the targets judged from a service-scale result, ratios with bootstrap intervals', () => {
  const r = ratioInterval(
    flat.map((x) => x * 3),
    flat,
    50,
  );
  assert.ok(Math.abs(r.value - 3) < 1e-9 && r.low <= 3 && r.high >= 3, JSON.stringify(r));
  const p = percentileInterval(flat, 99);
  assert.ok(p.low <= p.value && p.value <= p.high);
  const verdicts = judge(SERVICE_TARGETS, serviceFigures(J)).map((j) => `${j.figure} ${j.verdict}`);
  assert.deepEqual(verdicts, [
    'iptablesGrowth exceeded',
    'nftablesGrowth exceeded',
    'ebpfOverNftablesP99 exceeded',
    'nftablesProgrammingP99 exceeded',
    'ebpfProgrammingP99 exceeded',
  ]);
  const none = judge(SERVICE_TARGETS, serviceFigures({ ...J, archs: [J.archs[0]!] }));
  assert.deepEqual(
    none.map((j) => j.verdict),
    ['exceeded', 'not measured', 'not measured', 'not measured', 'not measured'],
  );
});
