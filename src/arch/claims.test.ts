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

test('every encrypting architecture is compared with its registered, unencrypted twin', () => {
  const encrypted = architectures.names().filter((n) => architectures.get(n).encryption);
  assert.ok(encrypted.length >= 2);
  for (const name of encrypted) {
    const twin = architectures.get(name).encryption!.twin;
    assert.ok(architectures.has(twin) && !architectures.get(twin).encryption, `${name}'s twin ${twin}`);
    assert.ok(
      DESIGN_COMPARISONS.some((d) => d.a === name && d.b === twin && d.path === 'inter-node'),
      `${name} against ${twin} is a declared comparison`,
    );
  }
});
