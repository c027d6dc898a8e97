import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/paths';
import { latencyWindows, parseSockperf } from './parse';

const fixture = readFileSync(join(REPO_ROOT, 'test/fixtures/sockperf-ping-pong.txt'), 'utf8');

test('sockperf ping-pong --full-rtt (recorded, sockperf 3.7, colours and all): percentiles in µs', () => {
  const s = parseSockperf(fixture);
  assert.deepEqual(s, {
    observations: 18688,
    avgUs: 29.438,
    minUs: 18.465,
    p50Us: 27.191,
    p90Us: 28.033,
    p99Us: 74.391,
    p999Us: 108.596,
    maxUs: 2524.569,
    dropped: 0,
  });
});

test('sockperf errors and one-way output are refused with a reason', () => {
  assert.throws(
    () => parseSockperf('sockperf: ERROR: Can`t connect socket (errno=111 Connection refused)\n'),
    /sockperf: Can`t connect socket/,
  );
  assert.throws(() => parseSockperf(fixture.replace(/avg-rtt/g, 'avg-latency')), /--full-rtt/);
  assert.throws(() => parseSockperf(fixture.replace(/percentile 99\.900.*\n/, '')), /percentile 99\.900/);
});

test('sockperf full log (recorded, 3000 messages) cut into windows of equal time, nearest-rank percentiles', () => {
  const text = readFileSync(join(REPO_ROOT, 'test/fixtures/sockperf-full-log.csv'), 'utf8');
  const [all] = latencyWindows(text, 1);
  assert.equal(all!.observations, 3000);
  const rtts = text
    .split('\n')
    .flatMap((l) => (/^\d+, /.test(l) ? [Number(l.split(', ')[3])] : []))
    .sort((a, b) => a - b);
  assert.equal(all!.p50Us, rtts[1499]);
  assert.equal(all!.p99Us, rtts[2969]);
  assert.equal(all!.p999Us, rtts[2996]);
  const w = latencyWindows(text, 3);
  assert.equal(
    w.reduce((n, x) => n + x.observations, 0),
    3000,
  );
  assert.ok(w.every((x) => x.observations > 500 && x.p50Us <= x.p90Us && x.p90Us <= x.p99Us && x.p99Us <= x.p999Us));
  assert.throws(() => latencyWindows(text.split('\n').slice(0, 30).join('\n'), 5), /too few for 5 windows/);
});
