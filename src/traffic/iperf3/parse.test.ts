import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../lib/paths';
import { parseIperf3Json, parseIperf3UdpJson } from './parse';

const fixture = (name: string): string => readFileSync(join(REPO_ROOT, 'test/fixtures', name), 'utf8');

test('iperf3 TCP JSON (recorded, iperf 3.12): receiver goodput and retransmits', () => {
  const s = parseIperf3Json(fixture('iperf3-tcp.json'));
  assert.equal(Math.round(s.bitsPerSecond), 11893787325);
  assert.equal(s.retransmits, 4289);
  assert.ok(s.seconds > 0.9 && s.bytes > 0);
});

test("iperf3 error JSON becomes an error with iperf3's message", () => {
  assert.throws(
    () => parseIperf3Json(fixture('iperf3-error.json')),
    /iperf3: unable to connect to server: Connection timed out/,
  );
});

test('non-JSON and incomplete output are rejected', () => {
  assert.throws(() => parseIperf3Json('iperf3: error - unable to connect'), /not JSON/);
  assert.throws(() => parseIperf3Json('{"end": {}}'), /no end\.sum_received/);
});

test("iperf3 UDP JSON (recorded, 1 Gbit/s target): the receiver's goodput, packets/s, loss and jitter", () => {
  const s = parseIperf3UdpJson(fixture('iperf3-udp.json'));
  assert.equal(Math.round(s.bitsPerSecond), 997985026);
  assert.equal(s.packets, 86309);
  assert.equal(s.lostPackets, 122);
  assert.equal(Math.round(s.packetsPerSecond), Math.round((86309 - 122) / 1.000406));
  assert.ok(Math.abs(s.lostPct - 0.1414) < 0.001);
  assert.ok(s.jitterMs > 0 && s.jitterMs < 0.01);
  assert.throws(
    () => parseIperf3UdpJson(fixture('iperf3-tcp.json')),
    /no end\.sum_received with bits_per_second, packets/,
  );
});
