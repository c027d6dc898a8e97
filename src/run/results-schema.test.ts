import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/paths';
import { resultsJsonSchema } from './results-published';
import { RESULTS_SCHEMA_VERSION, resultsSchema } from './results-schema';

test('the published JSON Schema is the one the code defines (run npm run schema after changing it)', () => {
  const published = JSON.parse(
    readFileSync(join(REPO_ROOT, `schema/results-v${RESULTS_SCHEMA_VERSION}.schema.json`), 'utf8'),
  );
  assert.deepEqual(published, resultsJsonSchema());
});

test("a results document without rows' required fields is refused", () => {
  const r = resultsSchema.safeParse({ schemaVersion: 4, rows: [{ arch: 'x' }] });
  assert.equal(r.success, false);
});
