import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/paths';
import { familyMismatch, parseBounceback, roundTrips } from './parse';
import { bouncebackArgs } from './run';

const fixture = (name: string): string => readFileSync(join(REPO_ROOT, 'test/fixtures', name), 'utf8');
const v6 = fixture('iperf2-bounceback-ipv6.txt');
const v4 = fixture('iperf2-bounceback-ipv4.txt');

test('iperf2 bounceback (recorded, iperf 2.1.8, IPv6): the flow, ten intervals and the run', () => {
  const b = parseBounceback(v6);
  assert.equal(b.local, 'fd00:250::1');
  assert.equal(b.remote, 'fd00:250::2');
  assert.equal(b.messageBytes, 64);
  assert.equal(b.intervals.length, 10);
  assert.deepEqual(b.intervals[1], {
    startSec: 0.1,
    endSec: 0.2,
    count: 5118,
    avgUs: 19,
    minUs: 17,
    maxUs: 75,
    stdevUs: 2,
    rps: 53948,
  });
  assert.deepEqual(b.total, {
    startSec: 0,
    endSec: 1.0029,
    count: 47743,
    avgUs: 20,
    minUs: 17,
    maxUs: 3723,
    stdevUs: 42,
    rps: 49803,
  });
  // The run's count is the intervals' and its last 2.9 ms' (one round trip here); rps is 1/mean (to the µs of avg).
  assert.equal(b.intervals.reduce((a, i) => a + i.count, 0) + 1, b.total.count);
  for (const i of [...b.intervals, b.total]) assert.ok(Math.abs(1e6 / i.rps - i.avgUs) <= 0.5, JSON.stringify(i));
});

test('iperf2 round trips: the first interval (warm-up) left out, the mean weighted by count from rps', () => {
  const b = parseBounceback(v6);
  const r = roundTrips(b, 0.1);
  const kept = b.intervals.slice(1);
  assert.equal(r.count, b.total.count - 1 - b.intervals[0]!.count);
  const mean = kept.reduce((a, i) => a + (i.count * 1e6) / i.rps, 0) / r.count;
  assert.ok(Math.abs(r.meanUs - mean) < 1e-9);
  assert.ok(r.meanUs > 17 && r.meanUs < 21, String(r.meanUs));
  assert.equal(r.minUs, 17);
  assert.equal(r.maxUs, 3723);
  // The whole run's mean from its own rps line agrees with the intervals' within the warm-up's weight.
  assert.ok(Math.abs(roundTrips(b, 0).meanUs - 1e6 / b.total.rps) < 0.5);
  assert.throws(() => roundTrips(b, 5), /no round trips from 5 s on/);
});

test('iperf2 IPv4 (recorded): parsed alike', () => {
  const b = parseBounceback(v4);
  assert.equal(b.local, '10.250.0.1');
  assert.equal(b.remote, '10.250.0.2');
  assert.equal(b.intervals.length, 10);
  assert.ok(roundTrips(b, 0.1).meanUs > 10);
});

test('iperf2: a refused connect (exit 0 all the same), a wrong family and malformed output are refused', () => {
  assert.throws(() => parseBounceback(fixture('iperf2-refused.txt')), /iperf2: tcp connect failed: Connection refused/);
  assert.throws(
    () => parseBounceback(fixture('iperf2-v6-of-ipv4.txt')),
    /iperf2: ERROR: failed to find an ip address for host '10\.250\.0\.2'/,
  );
  assert.throws(() => parseBounceback(v6.replace(/Bounce-back test.*\n/, '')), /not a bounceback test/);
  assert.throws(() => parseBounceback(v6.replace(/connected with/, 'talking to')), /no "local … connected with …"/);
  assert.throws(() => parseBounceback(v6.replace(/ rps/g, ' qps')), /no bounceback summary/);
  // The run's line lost: the last interval would pass for it.
  assert.throws(
    () => parseBounceback(v6.replace(/^.*0\.0000-1\.0029 sec {2}5\.83.*\n/m, '')),
    /summary is not the whole run/,
  );
  assert.throws(
    () => parseBounceback(v6.replace('47743=', '40000=')),
    /intervals hold 47742 round trips, more than the run's 40000/,
  );
  assert.throws(() => parseBounceback(''), /not a bounceback test/);
});

test('iperf2 flow check: a silent fallback to the other family, or another server, fails', () => {
  const b4 = parseBounceback(v4);
  const b6 = parseBounceback(v6);
  assert.equal(familyMismatch(b6, 'fd00:250::2'), undefined);
  assert.equal(familyMismatch(b6, 'FD00:250:0::0002'), undefined);
  assert.equal(familyMismatch(b4, '10.250.0.2'), undefined);
  assert.match(familyMismatch(b4, 'fd00:250::2')!, /ran over IPv4 \(10\.250\.0\.1 → 10\.250\.0\.2\), not the IPv6/);
  assert.match(familyMismatch(b6, '10.250.0.2')!, /ran over IPv6 .* not the IPv4 of 10\.250\.0\.2/);
  assert.match(familyMismatch({ local: '::ffff:10.0.0.1', remote: '::ffff:10.0.0.2' }, 'fd00::2')!, /ran over IPv4/);
  assert.match(familyMismatch(b6, 'fd00:250::3')!, /went to fd00:250::2, not fd00:250::3/);
  assert.match(familyMismatch(b4, '10.250.0.3')!, /went to 10\.250\.0\.2, not 10\.250\.0\.3/);
});

test('iperf2 client arguments: -V for an IPv6 server only, 64 B back to back, 0.1 s intervals', () => {
  const a6 = bouncebackArgs({ serverIp: 'fd00::2', durationSec: 1 });
  assert.deepEqual(a6.slice(0, 3), ['-c', 'fd00::2', '-V']);
  const a4 = bouncebackArgs({ serverIp: '10.0.0.2', durationSec: 2, port: 5011 });
  assert.ok(!a4.includes('-V'));
  assert.deepEqual(a4, [
    '-c',
    '10.0.0.2',
    '-p',
    '5011',
    '--bounceback',
    '-l',
    '64',
    '--bounceback-period',
    '0',
    '-t',
    '2',
    '-i',
    '0.1',
    '-e',
  ]);
});
