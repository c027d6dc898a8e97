import { test } from 'node:test';
import assert from 'node:assert/strict';
import { possibleCpus } from '../../../lib/bpf';
import {
  decodeEndpoint,
  decodeKey,
  decodeKey6,
  encodeEndpoint,
  encodeKey,
  encodeKey6,
  endpointSlot,
  KEY6_SIZE,
  pins,
  sumPerCpu,
} from './maps';

test('endpoint map: the key is the address in network order, the value ifindex (LE) then the two MACs', () => {
  assert.deepEqual([...encodeKey('10.244.1.5')], [10, 244, 1, 5]);
  assert.equal(decodeKey(encodeKey('10.244.1.5')), '10.244.1.5');
  const e = { ifindex: 0x01020304, mac: '02:aa:bb:cc:dd:ee', nodeMac: '0a:00:00:00:00:01' };
  const b = encodeEndpoint(e);
  assert.deepEqual([...b], [4, 3, 2, 1, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0a, 0, 0, 0, 0, 1]);
  assert.deepEqual(decodeEndpoint(b), e);
  assert.throws(() => encodeKey('10.244.1'), /not an IPv4 address/);
  assert.throws(() => encodeEndpoint({ ...e, mac: '02:aa' }), /not a MAC address/);
});

test('endpoints6: the key is the 16-byte IPv6 address in network order (struct in6_addr)', () => {
  const k = encodeKey6('fd00:10:244:1::5');
  assert.equal(k.length, KEY6_SIZE);
  assert.deepEqual([...k], [0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5]);
  assert.equal(decodeKey6(k), 'fd00:10:244:1::5');
  assert.equal(decodeKey6(encodeKey6('2001:db8::ffff:1')), '2001:db8::ffff:1');
  assert.deepEqual([...encodeKey6('::1')], [...Array(15).fill(0), 1]);
  assert.throws(() => encodeKey6('10.244.1.5'), /not an IPv6 address/);
  assert.throws(() => encodeKey6('fd00::1::2'), /not an IPv6 address/);
  assert.throws(() => encodeKey('fd00::5'), /not an IPv4 address/);
});

test("endpointSlot: an address's endpoint is in its family's map", () => {
  const p = pins('/b/node1');
  const v4 = endpointSlot(p, '10.244.1.5');
  assert.equal(v4.map, '/b/node1/maps/endpoints');
  assert.deepEqual([...v4.key], [10, 244, 1, 5]);
  const v6 = endpointSlot(p, 'fd00:10:244:1::5');
  assert.equal(v6.map, '/b/node1/maps/endpoints6');
  assert.deepEqual(v6.key, encodeKey6('fd00:10:244:1::5'));
});

test('counters: per-CPU values summed; the CPUs a per-CPU map holds, from /sys/devices/system/cpu/possible', () => {
  assert.equal(possibleCpus('0-1\n'), 2);
  assert.equal(possibleCpus('0-3,8-9,12'), 7);
  const v = new Uint8Array(32);
  const d = new DataView(v.buffer);
  d.setBigUint64(0, 3n, true);
  d.setBigUint64(8, 300n, true);
  d.setBigUint64(16, 4n, true);
  d.setBigUint64(24, 5000n, true);
  assert.deepEqual(sumPerCpu(v, 2), { packets: 7, bytes: 5300 });
});

test('pins: a node folder holds progs/<program> and maps/<map>', () => {
  const p = pins('/run/cnilab/l/bpf/node1');
  assert.equal(p.progs.from_pod, '/run/cnilab/l/bpf/node1/progs/from_pod');
  assert.equal(p.endpoints, '/run/cnilab/l/bpf/node1/maps/endpoints');
  assert.equal(p.endpoints6, '/run/cnilab/l/bpf/node1/maps/endpoints6');
  assert.equal(p.counters, '/run/cnilab/l/bpf/node1/maps/counters');
  assert.equal(p.policyEps, '/run/cnilab/l/bpf/node1/maps/policy_eps');
  assert.equal(p.ipcache, '/run/cnilab/l/bpf/node1/maps/ipcache');
  assert.equal(p.policy, '/run/cnilab/l/bpf/node1/maps/policy');
  assert.equal(p.ct, '/run/cnilab/l/bpf/node1/maps/ct');
});
