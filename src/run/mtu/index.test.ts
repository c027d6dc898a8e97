import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterSettings, afterTests } from '../after';
import { publishedResultsSchema } from '../results-published';
import { mtuTest } from '.';

test('mtu is a test after the rounds: registered, no flags, a part of results.json under afterRounds.mtu', () => {
  assert.equal(afterTests.get('mtu'), mtuTest);
  assert.deepEqual(mtuTest.flags, []);
  assert.deepEqual(afterSettings(['tcp', 'mtu'], {}).get('mtu'), {});
  const part = publishedResultsSchema.shape.afterRounds.unwrap().shape['mtu']!;
  assert.deepEqual(part.parse({ archs: [] }), { archs: [] });
  assert.throws(() => part.parse({ archs: [{ arch: 'x' }] }));
  assert.deepEqual(publishedResultsSchema.shape.settings.shape.tests.parse(['tcp', 'mtu']), ['tcp', 'mtu']);
});
