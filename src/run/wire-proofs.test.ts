import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../arch';
import type { Architecture } from '../arch/architecture';
import type { PlannedRow } from './plan';
import type { ProofRecord } from './results-proof-schema';
import { failedRows, proveLabs } from './wire-proofs';

const arch = (name: string): Architecture => architectures.get(name);
const row = (a: Architecture, path: 'inter-node' | 'intra-node', test: 'tcp' | 'latency', lab = a.name): PlannedRow =>
  ({ key: `${lab} ${path} ${test}`, cell: { arch: a, path }, test, lab }) as unknown as PlannedRow;

test('labs of architectures that do not encrypt are not captured: no proof, no row touched', async () => {
  const a = arch('flannel-vxlan');
  const rows = [{ row: row(a, 'inter-node', 'tcp') }];
  const steps: string[] = [];
  const r = await proveLabs([{ key: a.name, arch: a }], new Map([[a.name, 'lab-x']]), new Map(), rows, {
    progress: (s) => steps.push(s),
  });
  assert.deepEqual(r, { proofs: [], failed: [] });
  assert.equal(rows.length, 1);
  assert.deepEqual(steps, []);
});

test("a failed proof: each of the lab's rows (path × test) an error carrying the reason", () => {
  const a = arch('flannel-vxlan');
  const b = arch('host');
  const p = { ok: false, failures: ['plaintext: x', 'no udp/51820 packet'] } as unknown as ProofRecord;
  const rows = [
    row(a, 'inter-node', 'tcp'),
    { ...row(a, 'inter-node', 'tcp'), key: 'streams 4' },
    row(a, 'intra-node', 'latency'),
    row(b, 'inter-node', 'tcp'),
  ];
  assert.deepEqual(failedRows(rows, a.name, p), [
    {
      arch: a.name,
      path: 'inter-node',
      test: 'tcp',
      reason: 'the wire proof failed, so no figure: plaintext: x; no udp/51820 packet',
      failed: true,
    },
    {
      arch: a.name,
      path: 'intra-node',
      test: 'latency',
      reason: 'the wire proof failed, so no figure: plaintext: x; no udp/51820 packet',
      failed: true,
    },
  ]);
});
