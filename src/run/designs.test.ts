import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClaimRow } from './claims';
import { judgeClaims } from './verdicts';

const designChecks = (rows: ClaimRow[]) => judgeClaims(rows, 3).designs;

const tv = (values: number[]) => values.map((value, i) => ({ value, round: i + 1, at: i }));

const row = (arch: string, path: string, test: string, values: number[], cpu?: number[], mtu?: number): ClaimRow => ({
  arch,
  path,
  test,
  params: {},
  better: test === 'latency' ? 'lower' : 'higher',
  values: tv(values),
  ...(cpu ? { cpuPerGbit: tv(cpu) } : {}),
  ...(mtu === undefined ? {} : { mtu }),
});

test('a design pair is judged on throughput, latency and CPU per Gbit, each by its same-round ratio', () => {
  // Throughput drifts 2× between rounds but ebpf-native stays 10% above: better. Latency swaps: no
  // resolved difference. CPU per Gbit is 20% higher every round: worse (lower is better).
  const checks = designChecks([
    row('ebpf-native', 'inter-node', 'tcp', [11, 22, 5.5], [0.12, 0.06, 0.24]),
    row('flannel-host-gw', 'inter-node', 'tcp', [10, 20, 5], [0.1, 0.05, 0.2]),
    row('ebpf-native', 'inter-node', 'latency', [30, 41, 29]),
    row('flannel-host-gw', 'inter-node', 'latency', [31, 39, 30]),
  ]);
  assert.equal(checks.length, 1, 'only the pair both of whose architectures were measured on the path');
  const [c] = checks;
  assert.equal(`${c!.a}/${c!.b} ${c!.path}`, 'ebpf-native/flannel-host-gw inter-node');
  assert.deepEqual(
    c!.metrics.map((m) => `${m.metric} ${m.test} ${m.verdict}`),
    ['throughput tcp better', 'latency latency not resolved', 'cpuPerGbit tcp worse'],
  );
  assert.ok(Math.abs(c!.metrics[0]!.ratio!.geomean - 1.1) < 1e-9);
  assert.ok(Math.abs(c!.metrics[2]!.ratio!.geomean - 1.2) < 1e-9);
});

test('a metric a row lacks is "not measured"; intra-node pairs and MTUs are kept apart', () => {
  const checks = designChecks([
    row('ebpf-native', 'intra-node', 'tcp', [30, 31, 29], undefined, 1500),
    row('bridge', 'intra-node', 'tcp', [20, 21, 19], [0.1, 0.1, 0.1], 1500),
    row('ebpf-native', 'intra-node', 'tcp', [40, 41, 39], undefined, 9000),
  ]);
  assert.deepEqual(
    checks.map((c) => `${c.a}/${c.b} ${c.path} ${c.underlayMtu}: ${c.metrics.map((m) => m.verdict).join(',')}`),
    ['ebpf-native/bridge intra-node 1500: better,not measured,not measured'],
  );
});
