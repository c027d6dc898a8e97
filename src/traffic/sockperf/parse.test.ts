import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/paths';
import { parseSockperf } from './parse';

const fixture = readFileSync(join(REPO_ROOT, 'test/fixtures/sockperf-ping-pong.txt'), 'utf8');

test('sockperf ping-pong --full-rtt (recorded, sockperf 3.7, colours and all): percentiles in µs', () => {
  const s = parseSockperf(fixture);
  assert.deepEqual(s, { observations: 18688, avgUs: 29.438, minUs: 18.465, p50Us: 27.191, p90Us: 28.033, p99Us: 74.391, p999Us: 108.596, maxUs: 2524.569, dropped: 0 });
});

test('sockperf errors and one-way output are refused with a reason', () => {
  assert.throws(() => parseSockperf('sockperf: ERROR: Can`t connect socket (errno=111 Connection refused)\n'), /sockperf: Can`t connect socket/);
  assert.throws(() => parseSockperf(fixture.replace(/avg-rtt/g, 'avg-latency')), /--full-rtt/);
  assert.throws(() => parseSockperf(fixture.replace(/percentile 99\.900.*\n/, '')), /percentile 99\.900/);
});
