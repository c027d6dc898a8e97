// The nftables design's renderings and transactions, on the handcrafted input of ../sample.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW_B, BOTH, EGRESS, sampleInput } from '../sample';
import { endpointChain, nftScript, peerSet, policyChain, portMatches, render, TABLE } from './rules';

const T = TABLE;
const lines = (text: string): string[] => text.split('\n').filter((l) => l);
const MARKS = 'meta mark set meta mark | 0x00010000 return';

test('full: the table replaced in one transaction; map elements only for isolated directions (not d)', () => {
  const text = lines(nftScript(render(sampleInput()), undefined).text);
  assert.deepEqual(text.slice(0, 3), [
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T} { comment "cnilab NetworkPolicy (Felix's layout)" ; }`,
  ]);
  assert.ok(text.includes(`add chain ${T} forward { type filter hook forward priority 0 ; policy accept ; }`));
  assert.ok(text.includes(`add rule ${T} forward ip saddr vmap @egress`));
  assert.ok(text.includes(`add rule ${T} forward ip daddr vmap @ingress`));
  assert.deepEqual(
    text.filter((l) => /^add element \S+ \S+ (ingress|egress) /.test(l)),
    [
      `add element ${T} ingress { 10.244.1.2 : jump ${endpointChain('ingress', 'a')} }`,
      `add element ${T} egress { 10.244.1.2 : jump ${endpointChain('egress', 'a')} }`,
      `add element ${T} egress { 10.244.1.3 : jump ${endpointChain('egress', 'b')} }`,
    ],
  );
  // Chains are declared before any rule jumps to them.
  const firstRule = text.findIndex((l) => l.startsWith(`add rule ${T} pol-`) || l.startsWith(`add rule ${T} ep-`));
  assert.ok(text.findIndex((l) => l.startsWith(`add chain ${T} ep-`)) < firstRule);
});

test('an endpoint chain with two policies: conntrack, the mark cleared, each then return if marked, drop', () => {
  const [p1, p2] = [policyChain('ingress', ALLOW_B.key), policyChain('ingress', BOTH.key)];
  assert.deepEqual(render(sampleInput()).chains.get(endpointChain('ingress', 'a')), [
    'ct state established,related return',
    'ct state invalid drop',
    'meta mark set meta mark & 0xfffeffff',
    `jump ${p1}`,
    'meta mark & 0x00010000 == 0x00010000 return',
    `jump ${p2}`,
    'meta mark & 0x00010000 == 0x00010000 return',
    'drop',
  ]);
});

test("policy chains: pods by set, 'any' peers, port ranges, a block less its except in the set", () => {
  const { chains, sets } = render(sampleInput());
  const s0 = peerSet(`${ALLOW_B.key}/ingress/0`);
  assert.deepEqual(chains.get(policyChain('ingress', ALLOW_B.key)), [
    `ip saddr @${s0} meta l4proto tcp th dport 80 ${MARKS}`,
  ]);
  assert.deepEqual(sets.get(s0), ['10.244.1.3']);
  assert.deepEqual(chains.get(policyChain('ingress', BOTH.key)), [
    `meta l4proto tcp th dport 8000-8080 ${MARKS}`,
    `meta l4proto tcp th dport 9000 ${MARKS}`,
  ]);
  assert.deepEqual(chains.get(policyChain('egress', BOTH.key)), []);
  const [b1, b2] = [peerSet(`${EGRESS.key}/egress/1`), peerSet(`${EGRESS.key}/egress/2`)];
  assert.deepEqual(chains.get(policyChain('egress', EGRESS.key)), [
    `meta l4proto udp th dport 53 ${MARKS}`,
    `ip daddr @${b1} ${MARKS}`,
    `ip daddr @${b2} ${MARKS}`,
  ]);
  assert.deepEqual(sets.get(b1), ['10.0.0.0-10.0.255.255', '10.2.0.0-10.255.255.255']);
  assert.deepEqual(sets.get(b2), ['10.244.2.2', '192.168.0.0-192.168.255.255']);
});

test('ports: any, every port of a protocol, sctp', () => {
  assert.deepEqual(portMatches('any'), ['']);
  assert.deepEqual(portMatches([{ protocol: 'udp', from: 1, to: 65535 }]), ['meta l4proto udp']);
  assert.deepEqual(portMatches([{ protocol: 'sctp', from: 7, to: 7 }]), ['meta l4proto sctp th dport 7']);
});

test('partial: a changed port flushes and refills that chain only, never the table', () => {
  const changed = {
    ...ALLOW_B,
    ingress: [{ ...ALLOW_B.ingress![0]!, ports: [{ protocol: 'udp' as const, from: 81, to: 82 }] }],
  };
  const { text, written } = nftScript(
    render(sampleInput({ policies: [changed, BOTH, EGRESS] })),
    render(sampleInput()),
  );
  const pi = policyChain('ingress', ALLOW_B.key);
  const s0 = peerSet(`${ALLOW_B.key}/ingress/0`);
  assert.deepEqual(lines(text), [
    `add chain ${T} ${pi}`,
    `flush chain ${T} ${pi}`,
    `add rule ${T} ${pi} ip saddr @${s0} meta l4proto udp th dport 81-82 ${MARKS}`,
  ]);
  assert.equal(written, 1);
});

test("partial: a peer's new address refills its set in place", () => {
  const pods = sampleInput().pods.map((p) => (p.name === 'b' ? { ...p, ip: '10.244.1.9' } : p));
  const { text } = nftScript(render(sampleInput({ pods })), render(sampleInput()));
  const s0 = peerSet(`${ALLOW_B.key}/ingress/0`);
  assert.deepEqual(lines(text), [`flush set ${T} ${s0}`, `add element ${T} ${s0} { 10.244.1.9 }`]);
  const full = nftScript(render(sampleInput()), undefined);
  // 28 rules (2 in forward, 6 in policy chains, 20 in endpoint chains), 3 map elements, 1 + 2 + 2 set elements.
  assert.equal(full.written, 28 + 3 + 5);
});

test('partial: an endpoint no longer isolated loses its element, then its chain; a gone policy its chain and set', () => {
  // BOTH still selects (policies list it): its ingress chain stays, unused.
  const input = sampleInput({
    policies: [BOTH, EGRESS],
    endpoints: sampleInput().endpoints.map((e) => (e.pod === 'a' ? { ...e, ingress: [] } : e)),
  });
  const text = lines(nftScript(render(input), render(sampleInput())).text);
  const [ep, pi] = [endpointChain('ingress', 'a'), policyChain('ingress', ALLOW_B.key)];
  const s0 = peerSet(`${ALLOW_B.key}/ingress/0`);
  assert.deepEqual(text, [
    `delete element ${T} ingress { 10.244.1.2 }`,
    `flush chain ${T} ${pi}`,
    `flush chain ${T} ${ep}`,
    `delete chain ${T} ${pi}`,
    `delete chain ${T} ${ep}`,
    `delete set ${T} ${s0}`,
  ]);
});

test('partial: nothing changed, an empty transaction (the design then runs none)', () => {
  assert.deepEqual(nftScript(render(sampleInput()), render(sampleInput())), { text: '', written: 0 });
});
