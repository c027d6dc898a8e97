import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toDocument } from '../lab/policy-apply';
import { catalogue, catalogueLabels } from './catalogue';
import { compactMatrix, expandMatrix, expectedCells, matrixOf, matrixText } from './matrix';
import { toPolicy } from './spec';
import { matrixHtml } from './matrix-html';

const PODS = [
  { name: 'node1-p1', ip: '10.244.1.2' },
  { name: 'node1-p2', ip: '10.244.1.3' },
  { name: 'node2-p1', ip: '10.244.2.2' },
  { name: 'node2-p2', ip: '10.244.2.3' },
];

test('every case survives the trip through Kubernetes YAML: what apply sends is what the oracle read', () => {
  for (const c of catalogue(PODS, '10.244.0.0/16'))
    for (const p of c.policies) assert.deepEqual(toPolicy(toDocument(p)), p, `${c.name}: ${p.name}`);
});

test('the cases tell allowed from denied: none is all-open or all-closed but deny-ingress and the lockdown', () => {
  const labels = catalogueLabels(PODS.map((p) => p.name));
  assert.deepEqual(
    [...labels.values()].map((l) => l.app),
    ['a', 'b', 'c', 'a'],
  );
  const pods = PODS.map((p) => ({ ...p, node: p.name.slice(0, 5), labels: labels.get(p.name)! }));
  for (const c of catalogue(PODS, '10.244.0.0/16')) {
    const cells = expectedCells(c.policies, pods);
    const allowed = cells.filter((x) => x.expected).length;
    if (c.name === 'deny-ingress' || c.name === 'applied-then-deleted') assert.equal(allowed, 0, c.name);
    else assert.ok(allowed > 0 && allowed < cells.length, `${c.name}: ${allowed} of ${cells.length} allowed`);
  }
  const block = catalogue(PODS, '10.244.0.0/16').find((c) => c.name === 'ipblock-except')!;
  assert.match(block.about, /10\.244\.0\.0\/16 except 10\.244\.1\.0\/24/);
});

test('the matrix text marks agreement with . and X, differences with A and D, and counts them', () => {
  const pods = PODS.slice(0, 2).map((p) => ({ ...p, node: 'node1', labels: {} }));
  const cells = expectedCells([], pods, [80]).map((c, i) => ({ ...c, observed: i !== 0 }));
  const m = matrixOf(
    pods.map((p) => p.name),
    cells,
  );
  assert.equal(m.differences, 1);
  const text = matrixText(m);
  assert.match(text, /tcp\/80 +1 2\n1 node1-p1 +- +D\n2 node1-p2 +\. +-/);
  assert.match(text, /1 difference\(s\)$/);
  const c = compactMatrix(m);
  assert.deepEqual(c, { pods: ['node1-p1', 'node1-p2'], probes: ['tcp/80', 'udp/80'], marks: 'D...', differences: 1 });
  assert.deepEqual(expandMatrix(c), m, 'the compact form holds the whole matrix');
  const html = matrixHtml(m);
  assert.match(html, /title="denied where the policies allow">D<\/td>/);
  assert.match(html, /1 difference\(s\) in 4 probes/);
});
