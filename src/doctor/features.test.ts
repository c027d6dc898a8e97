import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingReason, type FeatureReport } from './features';

const report = { veth: { feature: 'veth', ok: true, detail: 'supported' } } as unknown as FeatureReport;

test('a required feature no probe ran is missing, with the reason, rather than a crash', () => {
  assert.equal(missingReason(report, ['veth']), undefined);
  assert.match(missingReason(report, ['veth', 'made-up']) ?? '', /^needs made-up: no probe of it ran/);
});
