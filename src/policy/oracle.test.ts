import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetworkPolicy, PolicyRule } from './model';
import { expectAllowed, type OracleEnd } from './oracle';
import { selectorMatches } from './selector';

const a: OracleEnd = { ip: '10.244.1.2', pod: { labels: { app: 'a', tier: 'web' } } };
const b: OracleEnd = { ip: '10.244.2.2', pod: { labels: { app: 'b', tier: 'db' } } };
const c: OracleEnd = { ip: '10.244.3.2', pod: { labels: { app: 'c' } } };
const outside: OracleEnd = { ip: '192.0.2.9' };

function pol(name: string, o: Partial<NetworkPolicy>): NetworkPolicy {
  return { name, namespace: 'default', podSelector: {}, policyTypes: ['Ingress'], ingress: [], egress: [], ...o };
}
const tcp = (from: OracleEnd, to: OracleEnd, port = 80): boolean =>
  expectAllowed(policies, { from, to, protocol: 'tcp', port });
let policies: NetworkPolicy[] = [];

test('selectors: matchLabels and every operator, an absent label holding NotIn and DoesNotExist', () => {
  const l = { app: 'a', tier: 'web' };
  assert.equal(selectorMatches({}, l), true);
  assert.equal(selectorMatches({ matchLabels: { app: 'a' } }, l), true);
  assert.equal(selectorMatches({ matchLabels: { app: 'a', tier: 'db' } }, l), false);
  const ex = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', key: string, values?: string[]): boolean =>
    selectorMatches({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] }, l);
  assert.equal(ex('In', 'tier', ['web', 'db']), true);
  assert.equal(ex('In', 'zone', ['x']), false);
  assert.equal(ex('NotIn', 'tier', ['web']), false);
  assert.equal(ex('NotIn', 'zone', ['x']), true);
  assert.equal(ex('Exists', 'app'), true);
  assert.equal(ex('DoesNotExist', 'app'), false);
  assert.equal(ex('DoesNotExist', 'zone'), true);
});

test('no policy: everything allowed; default deny ingress isolates only what it selects', () => {
  policies = [];
  assert.equal(tcp(a, b), true);
  policies = [pol('deny', { podSelector: { matchLabels: { app: 'b' } } })];
  assert.equal(tcp(a, b), false);
  assert.equal(tcp(b, a), true, 'b may still connect out: only its ingress is isolated');
  assert.equal(tcp(a, c), true);
  policies = [pol('deny-all', {})];
  assert.equal(tcp(a, b), false);
  assert.equal(tcp(outside, a), false);
});

test('allow from a selector, on a port; the union of two policies; egress needs its own allow', () => {
  const rule: PolicyRule = {
    peers: [{ podSelector: { matchLabels: { tier: 'web' } } }],
    ports: [{ protocol: 'tcp', port: 80 }],
  };
  policies = [pol('db', { podSelector: { matchLabels: { app: 'b' } }, ingress: [rule] })];
  assert.equal(tcp(a, b, 80), true);
  assert.equal(tcp(a, b, 81), false);
  assert.equal(expectAllowed(policies, { from: a, to: b, protocol: 'udp', port: 80 }), false);
  assert.equal(tcp(c, b, 80), false);
  policies.push(
    pol('db-c', {
      podSelector: { matchLabels: { app: 'b' } },
      ingress: [{ peers: [{ podSelector: { matchLabels: { app: 'c' } } }] }],
    }),
  );
  assert.equal(tcp(c, b, 81), true, 'the second policy allows c on every port');
  assert.equal(tcp(a, b, 81), false);
  policies.push(pol('a-out', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [] }));
  assert.equal(tcp(a, b, 80), false, "a's egress is isolated with no rule: denied though b's ingress allows");
  assert.equal(tcp(b, a), true, "a's ingress is not isolated by an Egress-only policy");
});

test('egress to ports and ranges; a rule without ports allows every protocol', () => {
  policies = [
    pol('out', {
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Egress'],
      egress: [{ ports: [{ protocol: 'udp', port: 5000, endPort: 5010 }, { protocol: 'tcp' }] }],
    }),
  ];
  assert.equal(expectAllowed(policies, { from: a, to: b, protocol: 'udp', port: 5010 }), true);
  assert.equal(expectAllowed(policies, { from: a, to: b, protocol: 'udp', port: 5011 }), false);
  assert.equal(expectAllowed(policies, { from: a, to: b, protocol: 'udp', port: 4999 }), false);
  assert.equal(tcp(a, b, 22), true, 'tcp without a port: every tcp port');
  assert.equal(expectAllowed(policies, { from: a, to: b, protocol: 'sctp', port: 22 }), false);
  policies = [
    pol('out', {
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Egress'],
      egress: [{ peers: [{ podSelector: { matchLabels: { app: 'b' } } }] }],
    }),
  ];
  assert.equal(expectAllowed(policies, { from: a, to: b, protocol: 'sctp', port: 9 }), true);
  assert.equal(tcp(a, c), false);
});

test('ipBlock with except matches addresses, pods among them; selectors never match a non-pod', () => {
  const ing = (peers: PolicyRule['peers']): NetworkPolicy[] => [
    pol('p', { podSelector: { matchLabels: { app: 'c' } }, ingress: [{ peers }] }),
  ];
  policies = ing([{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.2.0/24'] } }]);
  assert.equal(tcp(a, c), true);
  assert.equal(tcp(b, c), false, 'b is in the except block');
  assert.equal(tcp(outside, c), false);
  policies = ing([{ ipBlock: { cidr: '192.0.2.0/24' } }]);
  assert.equal(tcp(outside, c), true);
  policies = ing([{ podSelector: {} }]);
  assert.equal(tcp(outside, c), false, 'podSelector {} is every pod of the namespace, not every address');
  assert.equal(tcp(a, c), true);
});

test('namespaces: a policy selects only its namespace; peers without namespaceSelector are of its namespace', () => {
  policies = [pol('other', { namespace: 'other' })];
  assert.equal(tcp(a, b), true, "a policy of another namespace isolates none of default's pods");
  const other: OracleEnd = { ip: '10.244.9.9', pod: { labels: { app: 'a' }, namespace: 'other' } };
  policies = [
    pol('p', {
      podSelector: { matchLabels: { app: 'b' } },
      ingress: [{ peers: [{ podSelector: { matchLabels: { app: 'a' } } }] }],
    }),
  ];
  assert.equal(tcp(a, b), true);
  assert.equal(tcp(other, b), false, 'a pod of another namespace with the same labels');
  policies = [
    pol('p', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ peers: [{ namespaceSelector: {} }] }] }),
  ];
  assert.equal(tcp(other, b), true, 'namespaceSelector {} is every namespace');
  policies = [
    pol('p', {
      podSelector: { matchLabels: { app: 'b' } },
      ingress: [
        {
          peers: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } },
              podSelector: { matchLabels: { app: 'a' } },
            },
          ],
        },
      ],
    }),
  ];
  assert.equal(tcp(other, b), true);
  assert.equal(tcp(a, b), false);
});

test('an empty ingress rule list isolates; a rule {} allows everything', () => {
  policies = [pol('p', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{}] })];
  assert.equal(tcp(a, b), true);
  assert.equal(tcp(outside, b), true);
  policies = [pol('p', { podSelector: { matchLabels: { app: 'b' } }, ingress: [] })];
  assert.equal(tcp(a, b), false);
});
