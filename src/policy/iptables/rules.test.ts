// The iptables design's renderings and sync plans, on the handcrafted input of ../sample.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW_B, BOTH, EGRESS, sampleInput } from '../sample';
import type { PolicyInput } from '../model';
import { planSync } from './plan';
import { DISPATCH, endpointChain, policyChain, portMatches, render, setName } from './rules';

const NONE = { chains: [], sets: [], jump: false };
const full = (input: PolicyInput) => planSync(render(input), undefined, NONE);
const lines = (text: string): string[] => text.split('\n').filter((l) => l);
const M = '-j MARK --set-xmark 0x10000/0x10000';
const RET = '-m mark --mark 0x10000/0x10000 -j RETURN';

test('dispatch: -s for egress, -d for ingress, only for isolated directions; pod d gets none', () => {
  const { chains } = render(sampleInput());
  assert.deepEqual(chains.get(DISPATCH), [
    `-A ${DISPATCH} -s 10.244.1.2/32 -j ${endpointChain('egress', 'a')}`,
    `-A ${DISPATCH} -d 10.244.1.2/32 -j ${endpointChain('ingress', 'a')}`,
    `-A ${DISPATCH} -s 10.244.1.3/32 -j ${endpointChain('egress', 'b')}`,
  ]);
  for (const [dir, pod] of [
    ['ingress', 'd'],
    ['egress', 'd'],
    ['ingress', 'b'],
  ] as const)
    assert.equal(chains.has(endpointChain(dir, pod)), false, `${dir} ${pod}`);
});

test('an endpoint chain with two policies: conntrack, clear the mark, each policy then return, drop', () => {
  const chain = endpointChain('ingress', 'a');
  const [p1, p2] = [policyChain('ingress', ALLOW_B.key), policyChain('ingress', BOTH.key)];
  assert.deepEqual(render(sampleInput()).chains.get(chain), [
    `-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    `-A ${chain} -m conntrack --ctstate INVALID -j DROP`,
    `-A ${chain} -j MARK --set-xmark 0x0/0x10000`,
    `-A ${chain} -j ${p1}`,
    `-A ${chain} ${RET}`,
    `-A ${chain} -j ${p2}`,
    `-A ${chain} ${RET}`,
    `-A ${chain} -j DROP`,
  ]);
});

test('ingress from pods by set (src), ports as one range, multiport for several; egress [] is empty (deny all)', () => {
  const { chains, sets } = render(sampleInput());
  const pi = policyChain('ingress', ALLOW_B.key);
  const set = setName(`${ALLOW_B.key}/ingress/0/pods`);
  assert.deepEqual(chains.get(pi), [
    `-A ${pi} -m set --match-set ${set} src -p tcp -m tcp --dport 80 ${M}`,
    `-A ${pi} ${RET}`,
  ]);
  assert.deepEqual(sets.get(set), ['10.244.1.3/32']);
  const both = policyChain('ingress', BOTH.key);
  assert.deepEqual(chains.get(both), [
    `-A ${both} -p tcp -m multiport --dports 8000:8080,9000 ${M}`,
    `-A ${both} ${RET}`,
  ]);
  assert.deepEqual(chains.get(policyChain('egress', BOTH.key)), []);
});

test("egress: 'any' peers to a port, a block with except as a nomatch set (dst), a block without inline", () => {
  const { chains, sets } = render(sampleInput());
  const po = policyChain('egress', EGRESS.key);
  const block = setName(`${EGRESS.key}/egress/1/block0`);
  const pods = setName(`${EGRESS.key}/egress/2/pods`);
  assert.deepEqual(chains.get(po), [
    `-A ${po} -p udp -m udp --dport 53 ${M}`,
    `-A ${po} ${RET}`,
    `-A ${po} -m set --match-set ${block} dst ${M}`,
    `-A ${po} ${RET}`,
    `-A ${po} -m set --match-set ${pods} dst ${M}`,
    `-A ${po} -d 192.168.0.0/16 ${M}`,
    `-A ${po} ${RET}`,
  ]);
  assert.deepEqual(sets.get(block), ['10.0.0.0/8', '10.1.0.0/16 nomatch']);
  assert.ok([...sets.keys()].every((s) => s.length <= 31));
  assert.ok([...chains.keys()].every((c) => c.length <= 28));
});

test('ports: any, every port of a protocol, ranges, sctp, and multiport chunks of 15 slots', () => {
  assert.deepEqual(portMatches('any'), ['']);
  assert.deepEqual(portMatches([{ protocol: 'udp', from: 1, to: 65535 }]), ['-p udp']);
  assert.deepEqual(portMatches([{ protocol: 'sctp', from: 5000, to: 5010 }]), ['-p sctp -m sctp --dport 5000:5010']);
  const many = Array.from({ length: 10 }, (_, i) => ({ protocol: 'tcp' as const, from: 100 * i + 1, to: 100 * i + 2 }));
  const out = portMatches(many);
  assert.equal(out.length, 2);
  assert.equal(out[0], '-p tcp -m multiport --dports 1:2,101:102,201:202,301:302,401:402,501:502,601:602');
  assert.equal(out[1], '-p tcp -m multiport --dports 701:702,801:802,901:902');
});

test('a rule with no peer left (an except covering its block) writes nothing', () => {
  const input = sampleInput({
    policies: [
      {
        key: 'default/allow-b',
        ingress: [{ peers: { pods: [], blocks: [{ cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] }] }, ports: 'any' }],
      },
    ],
    endpoints: [{ pod: 'a', ip: '10.244.1.2', ingress: ['default/allow-b'], egress: [] }],
  });
  assert.deepEqual(render(input).chains.get(policyChain('ingress', 'default/allow-b')), []);
  assert.equal(render(input).sets.size, 0);
});

test('full sync: sets created before the one restore, the jump inserted first in FORWARD once', () => {
  const plan = full(sampleInput());
  assert.ok(lines(plan.ipsetBefore).every((l) => /^(create|flush|add) /.test(l)));
  assert.ok(plan.restore.includes(`-I FORWARD 1 -j ${DISPATCH}\n`));
  assert.equal(plan.ipsetAfter, '');
  const again = planSync(render(sampleInput()), undefined, { chains: [DISPATCH], sets: [], jump: true });
  assert.ok(!again.restore.includes('FORWARD'));
});

test('full sync over what is there: existing sets swapped in, stale chains and sets deleted after', () => {
  const set = setName(`${ALLOW_B.key}/ingress/0/pods`);
  const plan = planSync(render(sampleInput()), undefined, {
    chains: [DISPATCH, 'cnilab-pol-tw-STALESTALEST'],
    sets: [set, 'cnilab-pol-STALESTALESTALEST', `${set}-t`],
    jump: true,
  });
  assert.deepEqual(lines(plan.ipsetBefore).slice(0, 5), [
    `create ${set}-t hash:net family inet`,
    `flush ${set}-t`,
    `add ${set}-t 10.244.1.3/32`,
    `swap ${set}-t ${set}`,
    `destroy ${set}-t`,
  ]);
  assert.ok(plan.restore.includes(':cnilab-pol-tw-STALESTALEST - [0:0]\n'));
  assert.ok(plan.restore.trimEnd().endsWith('-X cnilab-pol-tw-STALESTALEST\nCOMMIT'));
  assert.deepEqual(lines(plan.ipsetAfter), ['destroy cnilab-pol-STALESTALESTALEST', `destroy ${set}-t`]);
});

test('partial: a changed port rewrites only that policy chain', () => {
  const prev = sampleInput();
  const changed = {
    ...ALLOW_B,
    ingress: [{ ...ALLOW_B.ingress![0]!, ports: [{ protocol: 'tcp' as const, from: 81, to: 81 }] }],
  };
  const plan = planSync(render(sampleInput({ policies: [changed, BOTH, EGRESS] })), render(prev), {
    ...NONE,
    jump: true,
  });
  const pi = policyChain('ingress', ALLOW_B.key);
  assert.equal(plan.ipsetBefore, '');
  assert.deepEqual(
    lines(plan.restore).filter((l) => !l.startsWith(`-A ${pi} `)),
    ['*filter', `:${pi} - [0:0]`, 'COMMIT'],
  );
  assert.equal(plan.written, 2);
});

test("partial: a peer pod's new address swaps its set in and touches no chain", () => {
  const pods = sampleInput().pods.map((p) => (p.name === 'b' ? { ...p, ip: '10.244.1.9' } : p));
  const plan = planSync(render(sampleInput({ pods })), render(sampleInput()), { ...NONE, jump: true });
  const set = setName(`${ALLOW_B.key}/ingress/0/pods`);
  assert.equal(plan.restore.includes(set), false);
  assert.ok(plan.ipsetBefore.includes(`add ${set}-t 10.244.1.9/32\nswap ${set}-t ${set}\n`));
});

test('partial: a policy no longer selecting: its chain and sets go after the endpoint chain stops naming it', () => {
  const input = sampleInput({
    policies: [BOTH, EGRESS],
    endpoints: sampleInput().endpoints.map((e) => (e.pod === 'a' ? { ...e, ingress: ['default/both'] } : e)),
  });
  const plan = planSync(render(input), render(sampleInput()), { ...NONE, jump: true });
  const pi = policyChain('ingress', ALLOW_B.key);
  // the endpoint chain is edited in place (its policy's jump and mark check deleted by position), before the -X
  const ep = endpointChain('ingress', 'a');
  assert.ok(!plan.restore.includes(`:${ep} - [0:0]`), 'not rewritten whole');
  assert.match(plan.restore, new RegExp(`-D ${ep} \\d+\\n-D ${ep} \\d+\\n[\\s\\S]*-X ${pi}\\n`));
  assert.equal(plan.ipsetBefore, '');
  assert.deepEqual(lines(plan.ipsetAfter), [`destroy ${setName(`${ALLOW_B.key}/ingress/0/pods`)}`]);
});

test('a /0 block with except: ipset takes no /0, so its two /1 halves', () => {
  const input = sampleInput({
    policies: [
      {
        key: 'default/x',
        egress: [{ peers: { pods: [], blocks: [{ cidr: '0.0.0.0/0', except: ['10.244.2.2/32'] }] }, ports: 'any' }],
      },
    ],
    endpoints: [{ pod: 'a', ip: '10.244.1.2', ingress: [], egress: ['default/x'] }],
  });
  assert.deepEqual(render(input).sets.get(setName('default/x/egress/0/block0')), [
    '0.0.0.0/1',
    '128.0.0.0/1',
    '10.244.2.2/32 nomatch',
  ]);
});

test('partial: nothing changed, nothing to run', () => {
  const plan = planSync(render(sampleInput()), render(sampleInput()), { ...NONE, jump: true });
  assert.deepEqual(plan, { ipsetBefore: '', restore: '', ipsetAfter: '', written: 0 });
});
