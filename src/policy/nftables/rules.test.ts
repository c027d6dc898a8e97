// The nftables design's renderings and transactions, on the handcrafted input of ../sample.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW_B, BOTH, EGRESS, sampleInput } from '../sample';
import { endpointChain, insertLines, nftScript, policyChain, portMatches, render, TABLE } from './rules';

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

test('an endpoint chain with two policies: conntrack, the mark cleared, its policies chain, return if marked, drop', () => {
  const [p1, p2] = [policyChain('ingress', ALLOW_B.key), policyChain('ingress', BOTH.key)];
  const ep = endpointChain('ingress', 'a');
  const { chains } = render(sampleInput());
  assert.deepEqual(chains.get(ep), [
    'ct state established,related return',
    'ct state invalid drop',
    'meta mark set meta mark & 0xfffeffff',
    `jump ${ep}-p`,
    'meta mark & 0x00010000 == 0x00010000 return',
    'drop',
  ]);
  // no final verdict in the policies' chain: a policy sorting last is appended (add rule), not inserted
  assert.deepEqual(chains.get(`${ep}-p`), [
    `jump ${p1}`,
    'meta mark & 0x00010000 == 0x00010000 return',
    `jump ${p2}`,
    'meta mark & 0x00010000 == 0x00010000 return',
  ]);
});

test("policy chains: peers in the rule, 'any' peers, port ranges, a block less its except", () => {
  const { chains } = render(sampleInput());
  assert.ok(
    !/add set /.test(nftScript(render(sampleInput()), undefined).text),
    'no named set: nft reads them all before adding one',
  );
  assert.deepEqual(chains.get(policyChain('ingress', ALLOW_B.key)), [
    `ip saddr 10.244.1.3 meta l4proto tcp th dport 80 ${MARKS}`,
  ]);
  assert.deepEqual(chains.get(policyChain('ingress', BOTH.key)), [
    `meta l4proto tcp th dport 8000-8080 ${MARKS}`,
    `meta l4proto tcp th dport 9000 ${MARKS}`,
  ]);
  assert.deepEqual(chains.get(policyChain('egress', BOTH.key)), []);
  assert.deepEqual(chains.get(policyChain('egress', EGRESS.key)), [
    `meta l4proto udp th dport 53 ${MARKS}`,
    `ip daddr { 10.0.0.0-10.0.255.255, 10.2.0.0-10.255.255.255 } ${MARKS}`,
    `ip daddr { 10.244.2.2, 192.168.0.0-192.168.255.255 } ${MARKS}`,
  ]);
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
  assert.deepEqual(lines(text), [
    `add chain ${T} ${pi}`,
    `flush chain ${T} ${pi}`,
    `add rule ${T} ${pi} ip saddr 10.244.1.3 meta l4proto udp th dport 81-82 ${MARKS}`,
  ]);
  assert.equal(written, 1);
});

test("partial: a peer's new address rewrites its policy's chain", () => {
  const pods = sampleInput().pods.map((p) => (p.name === 'b' ? { ...p, ip: '10.244.1.9' } : p));
  const { text } = nftScript(render(sampleInput({ pods })), render(sampleInput()));
  const pi = policyChain('ingress', ALLOW_B.key);
  assert.deepEqual(lines(text), [
    `add chain ${T} ${pi}`,
    `flush chain ${T} ${pi}`,
    `add rule ${T} ${pi} ip saddr 10.244.1.9 meta l4proto tcp th dport 80 ${MARKS}`,
  ]);
  const full = nftScript(render(sampleInput()), undefined);
  // 34 rules (2 in forward, 6 in policy chains, 26 in endpoint and their policies' chains), 3 map elements
  assert.equal(full.written, 34 + 3);
});

test('partial: an endpoint no longer isolated loses its element, then its chain; a gone policy its chain and set', () => {
  // BOTH still selects (policies list it): its ingress chain stays, unused.
  const input = sampleInput({
    policies: [BOTH, EGRESS],
    endpoints: sampleInput().endpoints.map((e) => (e.pod === 'a' ? { ...e, ingress: [] } : e)),
  });
  const text = lines(nftScript(render(input), render(sampleInput())).text);
  const [ep, pi] = [endpointChain('ingress', 'a'), policyChain('ingress', ALLOW_B.key)];
  assert.deepEqual(text, [
    `delete element ${T} ingress { 10.244.1.2 }`,
    `flush chain ${T} ${pi}`,
    `flush chain ${T} ${ep}-p`,
    `flush chain ${T} ${ep}`,
    `delete chain ${T} ${pi}`,
    `delete chain ${T} ${ep}-p`,
    `delete chain ${T} ${ep}`,
  ]);
});

test('partial: nothing changed, an empty transaction (the design then runs none)', () => {
  assert.deepEqual(nftScript(render(sampleInput()), render(sampleInput())), { text: '', written: 0 });
});

test('partial: a chain that only gained rules gets them inserted by position; appended past its end', () => {
  const e = { at: 3, remove: 0, insert: ['jump a', 'jump b'] };
  assert.deepEqual(insertLines('c', e, 4), [
    'insert rule ip cnilab-policy c index 2 jump a',
    'insert rule ip cnilab-policy c index 3 jump b',
  ]);
  assert.deepEqual(insertLines('c', { at: 5, remove: 0, insert: ['jump a'] }, 4), [
    'add rule ip cnilab-policy c jump a',
  ]);
});

test('partial: a policy sorting after the pod’s others is appended to its policies’ chain, the rest untouched', () => {
  const late = { key: 'default/zz-late', ingress: [{ peers: 'any' as const, ports: 'any' as const }] };
  const input = sampleInput({
    policies: [ALLOW_B, BOTH, EGRESS, late],
    endpoints: sampleInput().endpoints.map((e) =>
      e.pod === 'a' ? { ...e, ingress: ['default/allow-b', 'default/both', 'default/zz-late'] } : e,
    ),
  });
  const text = lines(nftScript(render(input), render(sampleInput())).text);
  const [ep, pl] = [endpointChain('ingress', 'a'), policyChain('ingress', late.key)];
  assert.deepEqual(text, [
    `add chain ${T} ${pl}`,
    `add rule ${T} ${pl} ${MARKS}`,
    `add rule ${T} ${ep}-p jump ${pl}`,
    `add rule ${T} ${ep}-p meta mark & 0x00010000 == 0x00010000 return`,
  ]);
});
