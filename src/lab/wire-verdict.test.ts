import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ethernetFrame } from '../lib/pcap';
import { ipv4Frame, type FrameSpec } from '../lib/pcap-fixture';
import { judgeCapture, verdictLine, type ProofInput } from './wire-verdict';
import { podsAcross } from './wire-proof';
import type { PodState } from './state';

const A = '198.18.0.2';
const B = '198.18.0.3';
const CONTROL = '198.18.0.1';
const MARKER = 'cnilab-marker-0123456789abcdef';
const frame = (f: FrameSpec): ReturnType<typeof ethernetFrame> => ethernetFrame(ipv4Frame(f), 0, 0);
const wg = (src: string, dst: string, payload = 'ciphertext'): ReturnType<typeof ethernetFrame> =>
  frame({ src, dst, proto: 17, sport: 51820, dport: 51820, payload });

function input(frames: ProofInput['frames'], o: Partial<ProofInput> = {}): ProofInput {
  return {
    frames,
    marker: MARKER,
    wire: { proto: 'udp', port: 51820 },
    nodes: [A, B],
    control: [CONTROL],
    podCidr: '10.244.0.0/16',
    delivered: { tcp: true, udp: true },
    dropped: 0,
    ...o,
  };
}

test('encrypted: the design wire between the two nodes, no marker, no pod address: proven', () => {
  const v = judgeCapture(
    input([
      wg(A, B),
      wg(B, A),
      frame({ src: A, dst: B, proto: 6, sport: 179, dport: 40001 }),
      frame({ src: A, dst: CONTROL, proto: 6, sport: 40002, dport: 6443 }),
    ]),
  );
  assert.equal(v.ok, true, v.failures.join('; '));
  assert.deepEqual(v.failures, []);
  assert.equal(v.packets, 4);
  assert.equal(v.design, 2);
  assert.deepEqual(v.betweenNodes, { 'udp/51820': 2, 'tcp/179': 1 });
  assert.deepEqual(v.controlPlane, { 'bgp tcp/179': 1, 'controller tcp/6443': 1 });
  assert.equal(
    verdictLine(v, { proto: 'udp', port: 51820 }),
    'encrypted: 2 udp/51820 packets between the nodes, 0 markers, 0 pod-addressed frames ' +
      '(control plane in the clear, as in real clusters: bgp tcp/179: 1, controller tcp/6443: 1)',
  );
});

test('ESP: IP protocol 50 between the nodes is the design; UDP to 51820 is not', () => {
  const esp = frame({ src: A, dst: B, proto: 50, payload: 'sealed' });
  assert.equal(judgeCapture(input([esp], { wire: { proto: 'esp' } })).ok, true);
  const v = judgeCapture(input([wg(A, B)], { wire: { proto: 'esp' } }));
  assert.equal(v.ok, false);
  assert.deepEqual(v.failures, [`no esp packet between ${A} and ${B}: the design's wire was not seen`]);
});

test('planted plaintext: a marker inside a tunnel, even beside the design wire, fails the proof', () => {
  const vxlan = frame({ src: A, dst: B, proto: 17, sport: 45000, dport: 8472, payload: `inner…${MARKER}…` });
  const v = judgeCapture(input([wg(A, B), vxlan]));
  assert.equal(v.ok, false);
  assert.equal(v.markers, 1);
  assert.equal(v.design, 1);
  assert.deepEqual(v.failures, ['plaintext: the marker sent pod to pod was seen in 1 frames on the switch']);
  assert.match(verdictLine(v, { proto: 'udp', port: 51820 }), /^NOT proven: plaintext: the marker/);
});

test('planted plaintext: a pod packet on the wire as it is (host-gw) fails on its addresses alone', () => {
  const v = judgeCapture(
    input([wg(A, B), frame({ src: '10.244.1.2', dst: '10.244.2.2', proto: 6, sport: 40000, dport: 7357 })]),
  );
  assert.equal(v.ok, false);
  assert.equal(v.markers, 0);
  assert.equal(v.podAddressed, 1);
  assert.deepEqual(v.failures, [
    'plaintext: 1 frames on the switch carry a pod address (10.244.0.0/16) in their IP header',
  ]);
});

test('the design wire between other addresses, or on another port, is not the design', () => {
  const v = judgeCapture(
    input([wg(A, '198.18.0.9'), frame({ src: A, dst: B, proto: 17, sport: 51821, dport: 51821 }), wg(A, CONTROL)]),
  );
  assert.equal(v.design, 0);
  assert.equal(v.ok, false);
  assert.deepEqual(v.betweenNodes, { 'udp/51821': 1 });
  assert.deepEqual(v.controlPlane, { 'controller udp/51820': 1 });
});

test('nothing to judge: a marker that did not arrive, or a capture that dropped packets, fails', () => {
  const v = judgeCapture(input([wg(A, B)], { delivered: { tcp: false, udp: true }, dropped: 3 }));
  assert.deepEqual(v.failures, [
    'the marker did not arrive over tcp: the path carried nothing to judge',
    'the capture dropped 3 packets: it cannot prove what it missed',
  ]);
  assert.equal(judgeCapture(input([])).failures.length, 1, 'an empty capture: no design wire');
});

test('the proof needs pods on two nodes: one line naming the field', () => {
  const pod = (name: string, node: string): PodState =>
    ({ name, node, netns: name, ip: '10.244.1.2', mtu: 1500, containerId: name }) as PodState;
  assert.deepEqual(
    podsAcross({ lab: 'l', pods: [pod('a1', 'a'), pod('a2', 'a'), pod('b1', 'b')] }).map((p) => p.name),
    ['a1', 'b1'],
  );
  assert.throws(
    () => podsAcross({ lab: 'l', pods: [pod('a1', 'a'), pod('a2', 'a')] }),
    /^CnilabError: lab l: topology\.pods: the wire proof needs pods on two compute nodes \(computeNodes ≥ 2\)$/,
  );
});
