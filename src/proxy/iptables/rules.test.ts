// Golden rule sets written from kube-proxy's iptables layout (pkg/proxy/iptables: its tests'
// expected dumps), for this lab's names: Service "web" port "http" is "default/web:http".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpoint, inputOf, manyServices, service } from '../sample';
import { planSync } from '../plan';
import { restoreText } from './rules';

const SVC = 'KUBE-SVC-CDGGSHYLG3RE2FKL'; // default/web:http + tcp
const SEP_2 = 'KUBE-SEP-UIQK3OSOSTRHRPBX'; // … + 10.244.1.2:8080
const SEP_3 = 'KUBE-SEP-2AZ33KU3V5PGPQZH'; // … + 10.244.1.3:8080
const SEP_22 = 'KUBE-SEP-4EX2N4PG4ASNZOBF'; // … + 10.244.2.2:8080
const EPS = [endpoint('10.244.1.2'), endpoint('10.244.1.3'), endpoint('10.244.2.2')];

const nat = (text: string): string => text.slice(text.indexOf('*nat'));
const filter = (text: string): string => text.slice(0, text.indexOf('*nat'));

test('one Service, one endpoint: the whole nat table', () => {
  const { text, written } = restoreText(inputOf([service('web', '10.96.0.10', [EPS[0]!])]), { kind: 'full' });
  assert.equal(
    nat(text),
    `*nat
:${SVC} - [0:0]
:KUBE-SERVICES - [0:0]
:${SEP_2} - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j ${SVC}
-A ${SVC} -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.2:8080" -j ${SEP_2}
-A ${SEP_2} -m comment --comment default/web:http -s 10.244.1.2 -j KUBE-MARK-MASQ
-A ${SEP_2} -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.2:8080
COMMIT
`,
  );
  assert.equal(written, 3 + 9); // KUBE-FORWARD's 3, nat's 9
});

test('three endpoints: spread with probabilities 1/3, 1/2, then the last always', () => {
  const { text } = restoreText(inputOf([service('web', '10.96.0.10', EPS)]), { kind: 'full' });
  const spread = nat(text)
    .split('\n')
    .filter((l) => l.startsWith(`-A ${SVC}`) && l.includes(' -> '));
  assert.deepEqual(spread, [
    `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.3333333333 -j ${SEP_2}`,
    `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.3:8080" -m statistic --mode random --probability 0.5000000000 -j ${SEP_3}`,
    `-A ${SVC} -m comment --comment "default/web:http -> 10.244.2.2:8080" -j ${SEP_22}`,
  ]);
});

test('no endpoints: rejected in filter KUBE-SERVICES, no nat chain of its own', () => {
  const { text } = restoreText(inputOf([service('web', '10.96.0.10', [])]), { kind: 'full' });
  assert.match(
    filter(text),
    /^-A KUBE-SERVICES -m comment --comment "default\/web:http has no endpoints" -m tcp -p tcp -d 10\.96\.0\.10 --dport 80 -j REJECT$/m,
  );
  assert.doesNotMatch(nat(text), /KUBE-SVC-|KUBE-SEP-|10\.96\.0\.10/);
});

test('ClientIP affinity: a recent source goes back to its endpoint, each DNAT records it', () => {
  const { text } = restoreText(inputOf([service('web', '10.96.0.10', EPS.slice(0, 2), { affinitySeconds: 300 })]), {
    kind: 'full',
  });
  const lines = nat(text).split('\n');
  const svc = lines.filter((l) => l.startsWith(`-A ${SVC}`));
  assert.deepEqual(svc.slice(1, 3), [
    `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.2:8080" -m recent --name ${SEP_2} --rcheck --seconds 300 --reap -j ${SEP_2}`,
    `-A ${SVC} -m comment --comment "default/web:http -> 10.244.1.3:8080" -m recent --name ${SEP_3} --rcheck --seconds 300 --reap -j ${SEP_3}`,
  ]);
  assert.ok(
    lines.includes(
      `-A ${SEP_3} -m comment --comment default/web:http -m recent --name ${SEP_3} --set -m tcp -p tcp -j DNAT --to-destination 10.244.1.3:8080`,
    ),
  );
});

test('masquerade: from outside the pod range to the ClusterIP, and an endpoint reaching itself', () => {
  const lines = nat(restoreText(inputOf([service('web', '10.96.0.10', EPS)]), { kind: 'full' }).text).split('\n');
  const marks = lines.filter((l) => l.endsWith('-j KUBE-MARK-MASQ'));
  assert.deepEqual(
    marks.map((l) => l.replace(/ -m comment --comment ("[^"]*"|\S+)/, '')),
    [
      `-A ${SVC} -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`,
      `-A ${SEP_2} -s 10.244.1.2 -j KUBE-MARK-MASQ`,
      `-A ${SEP_3} -s 10.244.1.3 -j KUBE-MARK-MASQ`,
      `-A ${SEP_22} -s 10.244.2.2 -j KUBE-MARK-MASQ`,
    ],
  );
});

const other = service('api', '10.96.0.20', [endpoint('10.244.3.3')]);

test('partial sync after an endpoint goes: KUBE-SERVICES and that Service only, the gone SEP deleted', () => {
  const before = inputOf([other, service('web', '10.96.0.10', EPS)]);
  const after = inputOf([other, service('web', '10.96.0.10', [EPS[0]!, EPS[2]!])]);
  const plan = planSync(after, before);
  assert.equal(plan.kind, 'partial');
  const text = nat(restoreText(after, plan).text);
  const declared = text.split('\n').filter((l) => l.startsWith(':'));
  assert.deepEqual(declared, [
    `:${SVC} - [0:0]`,
    ':KUBE-SERVICES - [0:0]',
    `:${SEP_2} - [0:0]`,
    `:${SEP_22} - [0:0]`,
    `:${SEP_3} - [0:0]`,
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
  ]);
  assert.match(text, new RegExp(`^-X ${SEP_3}$`, 'm'));
  assert.match(text, /--probability 0\.5000000000 -j KUBE-SEP-UIQK3OSOSTRHRPBX$/m);
  // The unchanged Service keeps its chains: only its KUBE-SERVICES rule is rewritten.
  assert.deepEqual(
    text.split('\n').filter((l) => l.includes('10.96.0.20') || l.includes('10.244.3.3')),
    [
      '-A KUBE-SERVICES -m comment --comment "default/api:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j KUBE-SVC-KKDGWRPDK6Z5NCHS',
    ],
  );
});

test('partial sync after a Service goes: its chains declared and deleted, nothing else of it', () => {
  const before = inputOf([other, service('web', '10.96.0.10', EPS.slice(0, 1))]);
  const after = inputOf([other]);
  const text = nat(restoreText(after, planSync(after, before)).text);
  assert.deepEqual(
    text.split('\n').filter((l) => l.includes(SVC) || l.includes(SEP_2)),
    [`:${SVC} - [0:0]`, `:${SEP_2} - [0:0]`, `-X ${SVC}`, `-X ${SEP_2}`],
  );
});

test('an unchanged input is a partial sync that rewrites only the fixed chains', () => {
  const input = inputOf([other]);
  const text = nat(restoreText(input, planSync(input, input)).text);
  assert.doesNotMatch(text, /^:KUBE-S(VC|EP)-/m);
});

test('size at 30,000 Services of 4 endpoints (printed, not judged)', (t) => {
  const { text, written } = restoreText(manyServices(30_000, 4), { kind: 'full' });
  t.diagnostic(`iptables full restore: ${written} rules, ${(text.length / 1e6).toFixed(1)} MB`);
  assert.ok(written > 30_000 * 10);
  // Every chain declared once, largest name first (iptables-nft's fast order, rules.ts).
  const declared = nat(text)
    .split('\n')
    .filter((l) => l.startsWith(':'))
    .map((l) => l.slice(1, l.indexOf(' ')));
  assert.equal(declared.length, 3 + 30_000 * 5);
  assert.ok(declared.every((c, i) => i === 0 || declared[i - 1]! > c));
});
