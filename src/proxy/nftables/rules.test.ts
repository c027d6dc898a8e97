// Golden rule sets written from kube-proxy's nftables layout (pkg/proxy/nftables: its tests'
// expected tables), for this lab's names: Service "web" port "http" is "default/web/tcp/http".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpoint, inputOf, manyServices, service } from '../sample';
import { planSync } from '../plan';
import { nftScript } from './rules';

const T = 'ip kube-proxy';
const SC = 'service-SUSTUHLJ-default/web/tcp/http';
const EC2 = 'endpoint-SVLGPL42-default/web/tcp/http__10.244.1.2/8080';
const EC3 = 'endpoint-QYTGA46O-default/web/tcp/http__10.244.1.3/8080';
const EPS = [endpoint('10.244.1.2'), endpoint('10.244.1.3'), endpoint('10.244.2.2')];
/** The lines of a script about Service "web", the fixed part of the table left out. */
const web = (text: string): string[] =>
  text.split('\n').filter((l) => (l.includes('web') || l.includes('10.96.0.')) && !l.includes('cluster-ips-check'));

test('one Service, one endpoint: its chains, rules and elements', () => {
  const { text } = nftScript(inputOf([service('web', '10.96.0.10', [EPS[0]!])]), { kind: 'full' });
  assert.deepEqual(web(text), [
    `add chain ${T} ${SC}`,
    `flush chain ${T} ${SC}`,
    `add chain ${T} ${EC2}`,
    `flush chain ${T} ${EC2}`,
    `add rule ${T} ${SC} ip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade`,
    `add rule ${T} ${SC} goto ${EC2}`,
    `add rule ${T} ${EC2} ip saddr 10.244.1.2 jump mark-for-masquerade`,
    `add rule ${T} ${EC2} meta l4proto tcp dnat to 10.244.1.2:8080`,
    `add element ${T} cluster-ips { 10.96.0.10 }`,
    `add element ${T} service-ips { 10.96.0.10 . tcp . 80 : goto ${SC} }`,
  ]);
  assert.match(text, /^add table ip kube-proxy\ndelete table ip kube-proxy\nadd table ip kube-proxy \{/);
  for (const hook of [
    'nat-prerouting { type nat hook prerouting priority -100 ; }',
    'nat-output { type nat hook output priority -100 ; }',
    'nat-postrouting { type nat hook postrouting priority 100 ; }',
    'filter-output-post-dnat { type filter hook output priority -90 ; }',
  ])
    assert.ok(text.includes(`add chain ${T} ${hook}`), hook);
  assert.ok(text.includes(`add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`));
});

test('three endpoints: a numgen cascade over the endpoint chains, 1/3 then 1/2 then the rest, no set', () => {
  const { text } = nftScript(inputOf([service('web', '10.96.0.10', EPS)]), { kind: 'full' });
  const picks = text.split('\n').filter((l) => l.startsWith(`add rule ${T} ${SC} `) && !l.includes('mark-for'));
  assert.deepEqual(picks, [
    `add rule ${T} ${SC} numgen random mod 3 == 0 goto ${EC2}`,
    `add rule ${T} ${SC} numgen random mod 2 == 0 goto ${EC3}`,
    `add rule ${T} ${SC} goto endpoint-AAOQDDFY-default/web/tcp/http__10.244.2.2/8080`,
  ]);
  assert.doesNotMatch(text, /vmap \{/, 'no anonymous map: each costs a walk of the whole transaction in the kernel');
});

test('no endpoints: an element of no-endpoint-services that goes to reject-chain, no chain', () => {
  const { text } = nftScript(inputOf([service('web', '10.96.0.10', [])]), { kind: 'full' });
  assert.deepEqual(web(text), [
    `add element ${T} cluster-ips { 10.96.0.10 }`,
    `add element ${T} no-endpoint-services { 10.96.0.10 . tcp . 80 comment "default/web:http" : goto reject-chain }`,
  ]);
  assert.ok(text.includes(`add rule ${T} reject-chain reject`));
});

test('ClientIP affinity: a set per endpoint with a timeout, checked first, updated on the way in', () => {
  const { text } = nftScript(inputOf([service('web', '10.96.0.10', EPS.slice(0, 2), { affinitySeconds: 300 })]), {
    kind: 'full',
  });
  const AFF2 = EC2.replace('endpoint-', 'affinity-');
  assert.ok(text.includes(`add set ${T} ${AFF2} { type ipv4_addr ; flags dynamic,timeout ; timeout 300s ; }`));
  assert.ok(text.includes(`add rule ${T} ${SC} ip saddr @${AFF2} goto ${EC2}\n`));
  assert.ok(text.includes(`add rule ${T} ${EC2} update @${AFF2} { ip saddr }\n`));
});

test('masquerade: from outside the pod range to the ClusterIP, an endpoint reaching itself, by mark', () => {
  const { text } = nftScript(inputOf([service('web', '10.96.0.10', EPS)]), { kind: 'full' });
  assert.equal(text.match(/jump mark-for-masquerade$/gm)?.length, 1 + 3);
  assert.ok(text.includes(`add rule ${T} mark-for-masquerade mark set mark or 0x4000\n`));
  assert.ok(text.includes(`add rule ${T} masquerading mark and 0x4000 == 0 return\n`));
  assert.ok(text.includes(`add rule ${T} masquerading masquerade fully-random\n`));
});

const other = service('api', '10.96.0.20', [endpoint('10.244.3.3')]);

test('partial sync after an endpoint goes: that Service rewritten, the gone endpoint chain deleted', () => {
  const before = inputOf([other, service('web', '10.96.0.10', EPS.slice(0, 2))]);
  const after = inputOf([other, service('web', '10.96.0.10', EPS.slice(0, 1))]);
  const { text, written } = nftScript(after, planSync(after, before));
  assert.doesNotMatch(text, /api|10\.96\.0\.20|add table|delete table/);
  assert.deepEqual(text.trim().split('\n'), [
    `delete element ${T} service-ips { 10.96.0.10 . tcp . 80 }`,
    `add chain ${T} ${SC}`,
    `flush chain ${T} ${SC}`,
    `add chain ${T} ${EC2}`,
    `flush chain ${T} ${EC2}`,
    `flush chain ${T} ${EC3}`,
    `delete chain ${T} ${EC3}`,
    `add rule ${T} ${SC} ip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade`,
    `add rule ${T} ${SC} goto ${EC2}`,
    `add rule ${T} ${EC2} ip saddr 10.244.1.2 jump mark-for-masquerade`,
    `add rule ${T} ${EC2} meta l4proto tcp dnat to 10.244.1.2:8080`,
    `add element ${T} cluster-ips { 10.96.0.10 }`,
    `add element ${T} service-ips { 10.96.0.10 . tcp . 80 : goto ${SC} }`,
  ]);
  assert.equal(written, 8);
});

test('partial sync after a Service goes: its elements, chains and address deleted', () => {
  const before = inputOf([other, service('web', '10.96.0.10', EPS.slice(0, 1))]);
  const after = inputOf([other]);
  assert.deepEqual(nftScript(after, planSync(after, before)).text.trim().split('\n'), [
    `delete element ${T} service-ips { 10.96.0.10 . tcp . 80 }`,
    `delete element ${T} cluster-ips { 10.96.0.10 }`,
    `flush chain ${T} ${SC}`,
    `flush chain ${T} ${EC2}`,
    `delete chain ${T} ${SC}`,
    `delete chain ${T} ${EC2}`,
  ]);
});

test('size at 30,000 Services of 4 endpoints (printed, not judged)', (t) => {
  const { text, written } = nftScript(manyServices(30_000, 4), { kind: 'full' });
  t.diagnostic(`nftables full transaction: ${written} rules and elements, ${(text.length / 1e6).toFixed(1)} MB`);
  assert.ok(written > 30_000 * 10);
});

test("partial sync after a Service's affinity timeout changes: its sets made again, after the chains naming them are flushed", () => {
  const before = inputOf([other, service('web', '10.96.0.10', EPS.slice(0, 1), { affinitySeconds: 300 })]);
  const after = inputOf([other, service('web', '10.96.0.10', EPS.slice(0, 1), { affinitySeconds: 60 })]);
  const lines = nftScript(after, planSync(after, before)).text.trim().split('\n');
  const AFF2 = EC2.replace('endpoint-', 'affinity-');
  const at = (l: string): number => lines.indexOf(l);
  assert.ok(at(`flush chain ${T} ${SC}`) >= 0 && at(`flush chain ${T} ${EC2}`) >= 0);
  assert.ok(at(`delete set ${T} ${AFF2}`) > Math.max(at(`flush chain ${T} ${SC}`), at(`flush chain ${T} ${EC2}`)));
  assert.equal(
    at(`add set ${T} ${AFF2} { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }`),
    at(`delete set ${T} ${AFF2}`) + 1,
  );
  // The same timeout: the set stays as it is (its clients keep their endpoint).
  const again = inputOf([other, service('web', '10.96.0.10', EPS.slice(0, 2), { affinitySeconds: 60 })]);
  assert.doesNotMatch(nftScript(again, planSync(again, after)).text, /delete set/);
});
