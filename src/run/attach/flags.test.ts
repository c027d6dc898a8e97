import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCnilabError } from '../../lib/errors';
import { afterSettings } from '../after';
import { attachSizes } from './flags';

test('attach flags: defaults, flags over the scenario, sizes sorted once; without the test, refused', () => {
  assert.equal(afterSettings(['tcp'], {}).get('attach'), undefined);
  assert.deepEqual(afterSettings(['attach'], {}).get('attach'), { samples: 20, sizes: [10, 100] });
  assert.deepEqual(
    afterSettings(['tcp', 'attach'], { attachSamples: 5 }, { attachSizes: [100, 10, 100], attachSamples: 9 }).get(
      'attach',
    ),
    { samples: 5, sizes: [10, 100] },
  );
  assert.deepEqual(attachSizes('1000,10,100,10'), [10, 100, 1000]);
  assert.throws(
    () => afterSettings(['tcp'], {}, { attachSamples: 3 }),
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
  assert.equal(afterSettings(['tcp'], {}).get('join'), undefined);
  assert.deepEqual(afterSettings(['join'], {}).get('join'), { samples: 5 });
  assert.deepEqual(afterSettings(['join'], { joinSamples: 2 }, { joinSamples: 9 }).get('join'), { samples: 2 });
  assert.deepEqual(afterSettings(['tcp', 'join'], {}, { joinSamples: 9 }).get('join'), { samples: 9 });
  assert.throws(
    () => afterSettings(['tcp'], { joinSamples: 3 }),
    (e: unknown) =>
      isCnilabError(e, 'INVALID_INPUT') &&
      /^--join-samples: only with the join test; add it: --tests tcp,join$/.test(e.message),
  );
});
