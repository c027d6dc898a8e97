// Golden inputs written from kube-proxy's IPVS layout (pkg/proxy/ipvs: kube-ipvs0, a virtual
// server per Service port, ipsets KUBE-CLUSTER-IP and KUBE-LOOP-BACK). This kernel has no ip_vs:
// only the generation is tested here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpoint, inputOf, manyServices, service } from '../sample';
import { planSync } from '../plan';
import { ipvsScripts } from './rules';

const EPS = [endpoint('10.244.1.2'), endpoint('10.244.1.3'), endpoint('10.244.2.2')];
const lines = (text: string): string[] => text.trim().split('\n');

test('one Service, one endpoint: a virtual server, its real server, its address and set entries', () => {
  const s = ipvsScripts(inputOf([service('web', '10.96.0.10', EPS.slice(0, 1))]), { kind: 'full' });
  assert.deepEqual(lines(s.ipvsadm), ['-A -t 10.96.0.10:80 -s rr', '-a -t 10.96.0.10:80 -r 10.244.1.2:8080 -m -w 1']);
  assert.deepEqual(s.addresses, [
    ['addr', 'flush', 'dev', 'kube-ipvs0'],
    ['addr', 'replace', '10.96.0.10/32', 'dev', 'kube-ipvs0'],
  ]);
  assert.deepEqual(lines(s.ipset).slice(2), [
    'flush KUBE-CLUSTER-IP',
    'flush KUBE-LOOP-BACK',
    'add KUBE-CLUSTER-IP 10.96.0.10,tcp:80 -exist',
    'add KUBE-LOOP-BACK 10.244.1.2,tcp:8080,10.244.1.2 -exist',
  ]);
});

test('three endpoints: three real servers, round robin; affinity is persistence', () => {
  const s = ipvsScripts(inputOf([service('web', '10.96.0.10', EPS, { affinitySeconds: 300 })]), { kind: 'full' });
  assert.deepEqual(lines(s.ipvsadm), [
    '-A -t 10.96.0.10:80 -s rr -p 300',
    '-a -t 10.96.0.10:80 -r 10.244.1.2:8080 -m -w 1',
    '-a -t 10.96.0.10:80 -r 10.244.1.3:8080 -m -w 1',
    '-a -t 10.96.0.10:80 -r 10.244.2.2:8080 -m -w 1',
  ]);
});

test('no endpoints: a virtual server without real servers', () => {
  const s = ipvsScripts(inputOf([service('web', '10.96.0.10', [])]), { kind: 'full' });
  assert.deepEqual(lines(s.ipvsadm), ['-A -t 10.96.0.10:80 -s rr']);
});

test('masquerade: by the sets, from outside the pod range and hairpin, on the shared mark', () => {
  const { iptables } = ipvsScripts(inputOf([service('web', '10.96.0.10', EPS)]), { kind: 'full' });
  assert.ok(iptables);
  assert.match(
    iptables,
    /^-A KUBE-SERVICES ! -s 10\.244\.0\.0\/16 -m comment --comment "Kubernetes service cluster ip \+ port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ$/m,
  );
  assert.match(iptables, /^-A KUBE-POSTROUTING .* -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE$/m);
  assert.match(iptables, /^-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000$/m);
});

const other = service('api', '10.96.0.20', [endpoint('10.244.3.3')]);

test('partial sync after an endpoint goes: that real server and its set entry deleted, nothing else', () => {
  const before = inputOf([other, service('web', '10.96.0.10', EPS)]);
  const after = inputOf([other, service('web', '10.96.0.10', EPS.slice(0, 2))]);
  const s = ipvsScripts(after, planSync(after, before));
  assert.deepEqual(lines(s.ipvsadm), ['-d -t 10.96.0.10:80 -r 10.244.2.2:8080']);
  assert.equal(s.iptables, undefined);
  assert.ok(lines(s.ipset).includes('del KUBE-LOOP-BACK 10.244.2.2,tcp:8080,10.244.2.2 -exist'));
  assert.ok(!lines(s.ipset).includes('add KUBE-LOOP-BACK 10.244.2.2,tcp:8080,10.244.2.2 -exist'));
  assert.doesNotMatch(s.ipset + s.ipvsadm, /10\.96\.0\.20|10\.244\.3\.3/);
});

test('partial sync after a Service goes: its virtual server, address and set entries deleted', () => {
  const before = inputOf([other, service('web', '10.96.0.10', EPS.slice(0, 1))]);
  const after = inputOf([other]);
  const s = ipvsScripts(after, planSync(after, before));
  assert.deepEqual(lines(s.ipvsadm), ['-D -t 10.96.0.10:80']);
  assert.deepEqual(s.addresses, [['addr', 'del', '10.96.0.10/32', 'dev', 'kube-ipvs0']]);
  assert.deepEqual(lines(s.ipset), [
    'del KUBE-CLUSTER-IP 10.96.0.10,tcp:80 -exist',
    'del KUBE-LOOP-BACK 10.244.1.2,tcp:8080,10.244.1.2 -exist',
  ]);
});

test("partial sync after a Service goes: a loop-back entry another Service's endpoint makes stays", () => {
  const shared = service('auth', '10.96.0.11', EPS.slice(0, 1));
  const before = inputOf([other, shared, service('web', '10.96.0.10', EPS.slice(0, 1))]);
  const after = inputOf([other, shared]);
  const s = ipvsScripts(after, planSync(after, before));
  // web and auth both send to 10.244.1.2:8080: its hairpin entry is auth's too
  assert.deepEqual(lines(s.ipset), ['del KUBE-CLUSTER-IP 10.96.0.10,tcp:80 -exist']);
});

test('size at 30,000 Services of 4 endpoints (printed, not judged)', (t) => {
  const s = ipvsScripts(manyServices(30_000, 4), { kind: 'full' });
  const mb = (s.ipvsadm.length + s.ipset.length) / 1e6;
  t.diagnostic(`ipvs full sync: ${s.written} entries, ${mb.toFixed(1)} MB of ipvsadm and ipset input`);
  assert.ok(s.written > 30_000 * 5);
});
