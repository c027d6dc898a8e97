// The part diff the netfilter designs' partial syncs are planned with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffParts } from './diff';

const parts = (o: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(o));

test('no previous rendering: everything is changed, nothing gone', () => {
  assert.deepEqual(diffParts(undefined, parts({ a: ['1'], b: [] })), { changed: ['a', 'b'], gone: [] });
});

test('new, differing (text, order, length) and gone parts; equal ones untouched', () => {
  const prev = parts({ same: ['1', '2'], text: ['1'], order: ['1', '2'], shorter: ['1', '2'], old: ['x'] });
  const next = parts({ same: ['1', '2'], text: ['2'], order: ['2', '1'], shorter: ['1'], fresh: [] });
  assert.deepEqual(diffParts(prev, next), { changed: ['text', 'order', 'shorter', 'fresh'], gone: ['old'] });
});
