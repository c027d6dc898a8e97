import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureMode, parsePing } from './ping-outcome';

// FRAG, LOCAL_* and SILENT: recorded from iputils ping 20221126 in a flannel-host-gw lab (pod node1-p1 to node2-p1,
// a planted 1400-byte hop; FRAG before, SILENT after the switch dropped frag-needed), 2026-12-07. REPLY and UNREACH:
// iputils' format, written by hand.
const REPLY = `PING 10.244.1.2 (10.244.1.2) 1372(1400) bytes of data.
1380 bytes from 10.244.1.2: icmp_seq=1 ttl=62 time=0.118 ms

--- 10.244.1.2 ping statistics ---
1 packets transmitted, 1 received, 0% packet loss, time 0ms
rtt min/avg/max/mdev = 0.118/0.118/0.118/0.000 ms
`;
const FRAG = `PING 10.244.1.2 (10.244.1.2) 1373(1401) bytes of data.
From 198.18.0.3 icmp_seq=1 Frag needed and DF set (mtu = 1400)

--- 10.244.1.2 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms
`;
const LOCAL_OUT = `PING 10.244.1.2 (10.244.1.2) 1473(1501) bytes of data.

--- 10.244.1.2 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms
`;
const LOCAL_ERR = 'ping: local error: message too long, mtu=1500\n';
const SILENT = `PING 10.244.1.2 (10.244.1.2) 1373(1401) bytes of data.

--- 10.244.1.2 ping statistics ---
1 packets transmitted, 0 received, 100% packet loss, time 0ms
`;
const UNREACH = `PING 10.244.9.2 (10.244.9.2) 56(84) bytes of data.
From 10.244.3.1 icmp_seq=1 Destination Host Unreachable

--- 10.244.9.2 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms
`;

test('a reply, a frag-needed with its MTU and sender, a local EMSGSIZE, silence, another error', () => {
  assert.deepEqual(parsePing(REPLY), { kind: 'reply' });
  assert.deepEqual(parsePing(FRAG), { kind: 'frag-needed', mtu: 1400, from: '198.18.0.3' });
  assert.deepEqual(parsePing(LOCAL_OUT, LOCAL_ERR), { kind: 'emsgsize', mtu: 1500 });
  assert.deepEqual(parsePing(SILENT), { kind: 'silent' });
  assert.deepEqual(parsePing(UNREACH), {
    kind: 'other',
    line: 'From 10.244.3.1 icmp_seq=1 Destination Host Unreachable',
  });
});

test('older pings: "sendmsg: Message too long" without an MTU is EMSGSIZE; a colon after the sender is read', () => {
  assert.deepEqual(parsePing('', 'ping: sendmsg: Message too long\n'), { kind: 'emsgsize' });
  assert.deepEqual(parsePing('From 10.0.0.1: icmp_seq=1 Frag needed and DF set (mtu = 1450)\n'), {
    kind: 'frag-needed',
    mtu: 1450,
    from: '10.0.0.1',
  });
});

test('loud: the sender learns (EMSGSIZE, frag-needed); silent: nothing back; another error is neither', () => {
  assert.equal(failureMode({ kind: 'emsgsize' }), 'loud');
  assert.equal(failureMode({ kind: 'frag-needed', mtu: 1400, from: 'x' }), 'loud');
  assert.equal(failureMode({ kind: 'silent' }), 'silent');
  assert.equal(failureMode({ kind: 'other', line: 'x' }), undefined);
  assert.equal(failureMode({ kind: 'reply' }), undefined);
});
