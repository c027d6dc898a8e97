import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURES, kindProbes } from '../doctor/features';
import { architectures } from '.';

test("the doctor gets each kind's probes once, however many of its architectures bring them", () => {
  const brought = architectures
    .names()
    .flatMap((n) => (architectures.get(n).control.probes ?? []).map((p) => p.feature));
  assert.deepEqual(kindProbes.names(), [...new Set(brought)]);
  assert.ok(kindProbes.has('ebpf'), 'the eBPF kind brings its probe');
});

test('every feature an architecture requires is probed, by the doctor or by a kind', () => {
  const probed = new Set<string>([...FEATURES, ...kindProbes.names()]);
  for (const n of architectures.names())
    assert.deepEqual(
      architectures.get(n).requires.filter((f) => !probed.has(f)),
      [],
      n,
    );
});
