import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCnilabError } from '../../lib/errors';
import { attachSettings, attachSizes, joinSettings } from './run-attach';

test('attach flags: defaults, flags over the scenario, sizes sorted once; without the test, refused', () => {
  assert.equal(attachSettings({}, ['tcp']), undefined);
  assert.deepEqual(attachSettings({}, ['attach']), { samples: 20, sizes: [10, 100] });
  assert.deepEqual(
    attachSettings({ attachSamples: 5 }, ['tcp', 'attach'], { attachSizes: [100, 10, 100], attachSamples: 9 }),
    {
      samples: 5,
      sizes: [10, 100],
    },
  );
  assert.deepEqual(attachSizes('1000,10,100,10'), [10, 100, 1000]);
  assert.throws(
    () => attachSettings({}, ['tcp'], { attachSamples: 3 }),
    (e: unknown) =>
      isCnilabError(e, 'INVALID_INPUT') &&
      /^--attach-samples: only with the attach test; add it: --tests tcp,attach$/.test(e.message),
  );
  for (const bad of ['0', '5001', '1.5', 'ten', ''])
    assert.throws(
      () => attachSizes(bad),
      (e: unknown) => isCnilabError(e, 'INVALID_INPUT') && e.message.startsWith('--attach-sizes:'),
    );
});

test('join flag: default 5 joins, the flag over the scenario; without the test, refused naming the flag', () => {
  assert.equal(joinSettings({}, ['tcp']), undefined);
  assert.deepEqual(joinSettings({}, ['join']), { samples: 5 });
  assert.deepEqual(joinSettings({ joinSamples: 2 }, ['join'], { joinSamples: 9 }), { samples: 2 });
  assert.deepEqual(joinSettings({}, ['tcp', 'join'], { joinSamples: 9 }), { samples: 9 });
  assert.throws(
    () => joinSettings({ joinSamples: 3 }, ['tcp']),
    (e: unknown) =>
      isCnilabError(e, 'INVALID_INPUT') &&
      /^--join-samples: only with the join test; add it: --tests tcp,join$/.test(e.message),
  );
});
