// The part diff the netfilter designs' partial syncs are planned with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainEdit, diffParts } from './diff';

const parts = (o: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(o));

test('no previous rendering: everything is changed, nothing gone', () => {
  assert.deepEqual(diffParts(undefined, parts({ a: ['1'], b: [] })), { changed: ['a', 'b'], gone: [] });
});

test('new, differing (text, order, length) and gone parts; equal ones untouched', () => {
  const prev = parts({ same: ['1', '2'], text: ['1'], order: ['1', '2'], shorter: ['1', '2'], old: ['x'] });
  const next = parts({ same: ['1', '2'], text: ['2'], order: ['2', '1'], shorter: ['1'], fresh: [] });
  assert.deepEqual(diffParts(prev, next), { changed: ['text', 'order', 'shorter', 'fresh'], gone: ['old'] });
});

test('a chain edit: the differing middle between a common head and tail; none when most of it changed', () => {
  const old = ['a', 'b', 'c', 'z'];
  assert.deepEqual(chainEdit(old, ['a', 'b', 'c', 'x', 'y', 'z']), { at: 4, remove: 0, insert: ['x', 'y'] });
  assert.deepEqual(chainEdit(old, ['a', 'c', 'z']), { at: 2, remove: 1, insert: [] });
  assert.deepEqual(chainEdit(old, ['a', 'B', 'c', 'z']), { at: 2, remove: 1, insert: ['B'] });
  assert.equal(chainEdit(old, ['p', 'q', 'r', 's']), undefined, 'all of it: rewritten whole');
  assert.deepEqual(chainEdit(['a', 'a'], ['a', 'a', 'a']), { at: 3, remove: 0, insert: ['a'] });
});
