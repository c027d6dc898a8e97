import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DESIGN_COMPARISONS, PAPER_ORDERINGS } from './claims';
import { architectures } from '.';

test('every architecture a declared claim names is registered', () => {
  const named = [
    ...PAPER_ORDERINGS.flatMap((p) => [p.higher, p.lower]),
    ...DESIGN_COMPARISONS.flatMap((d) => [d.a, d.b]),
  ];
  assert.deepEqual(
    named.filter((n) => !architectures.has(n)),
    [],
  );
});

test('a design pair is declared once per path', () => {
  const keys = DESIGN_COMPARISONS.map((d) => `${d.a} ${d.b} ${d.path}`);
  assert.equal(new Set(keys).size, keys.length);
});
