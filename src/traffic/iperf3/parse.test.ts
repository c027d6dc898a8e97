import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/paths';
import { parseIperf3Json } from './parse';

const fixture = (name: string): string => readFileSync(join(REPO_ROOT, 'test/fixtures', name), 'utf8');

test('iperf3 TCP JSON (recorded, iperf 3.12): receiver goodput and retransmits', () => {
  const s = parseIperf3Json(fixture('iperf3-tcp.json'));
  assert.equal(Math.round(s.bitsPerSecond), 11893787325);
  assert.equal(s.retransmits, 4289);
  assert.ok(s.seconds > 0.9 && s.bytes > 0);
});

test('iperf3 error JSON becomes an error with iperf3\'s message', () => {
  assert.throws(() => parseIperf3Json(fixture('iperf3-error.json')), /iperf3: unable to connect to server: Connection timed out/);
});

test('non-JSON and incomplete output are rejected', () => {
  assert.throws(() => parseIperf3Json('iperf3: error - unable to connect'), /not JSON/);
  assert.throws(() => parseIperf3Json('{"end": {}}'), /no end\.sum_received/);
});
