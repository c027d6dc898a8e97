import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicies } from './file';

const doc = (spec: string, meta = 'name: p'): string =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  ${meta}\nspec:\n${spec}`;

test('defaults as Kubernetes: namespace default, policyTypes from the sections, TCP', () => {
  const [p] = parsePolicies(doc('  podSelector: {}\n  ingress:\n  - ports:\n    - port: 80\n'), 'f.yaml');
  assert.deepEqual(p, {
    name: 'p',
    namespace: 'default',
    podSelector: {},
    policyTypes: ['Ingress'],
    ingress: [{ ports: [{ protocol: 'tcp', port: 80 }] }],
    egress: [],
  });
  const [q] = parsePolicies(doc('  podSelector: {}\n  egress: []\n', 'name: q\n  namespace: prod'), 'f.yaml');
  assert.deepEqual(q!.policyTypes, ['Egress', 'Ingress']);
  assert.equal(q!.namespace, 'prod');
});

test('multi-document files and Lists; empty documents skipped; a name twice refused', () => {
  const two = `${doc('  podSelector: {}\n')}\n---\n---\n${doc('  podSelector: {}\n', 'name: r')}`;
  assert.deepEqual(
    parsePolicies(two, 'f').map((p) => p.name),
    ['p', 'r'],
  );
  const list = `apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: x}\n  spec: {podSelector: {}}\n`;
  assert.deepEqual(
    parsePolicies(list, 'f').map((p) => p.name),
    ['x'],
  );
  assert.throws(
    () => parsePolicies(`${doc('  podSelector: {}\n')}\n---\n${doc('  podSelector: {}\n')}`, 'f'),
    /document 2 \(p\): default\/p is in the file twice/,
  );
});

test('what Kubernetes refuses, one line naming the field', () => {
  const bad: [string, RegExp][] = [
    [
      '  podSelector: {}\n  ingress:\n  - ports:\n    - port: 0\n',
      /f: document 1 \(p\): spec\.ingress\[0\]\.ports\[0\]\.port: Invalid value: 0: must be between 1 and 65535/,
    ],
    [
      '  podSelector: {}\n  ingress:\n  - ports:\n    - protocol: ICMP\n',
      /spec\.ingress\[0\]\.ports\[0\]\.protocol: Unsupported value: supported values: "SCTP", "TCP", "UDP"/,
    ],
    [
      '  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.1}\n',
      /spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: Invalid value: "10\.0\.0\.1": must be a valid CIDR/,
    ],
    [
      '  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}\n',
      /ipBlock\.except\[0\]: .*strict subset/,
    ],
    [
      '  podSelector:\n    matchExpressions:\n    - {key: app, operator: Equals, values: [a]}\n',
      /spec\.podSelector\.matchExpressions\[0\]\.operator: Unsupported value/,
    ],
    [
      '  podSelector:\n    matchExpressions:\n    - {key: app, operator: In}\n',
      /matchExpressions\[0\]\.values: Required value/,
    ],
    ['  podSelector:\n    matchLabels: {"bad key!": x}\n', /spec\.podSelector\.matchLabels/],
    [
      '  podSelector: {}\n  egress:\n  - to:\n    - {}\n',
      /spec\.egress\[0\]\.to\[0\]: Required value: must specify a peer/,
    ],
    [
      '  podSelector: {}\n  egress:\n  - to:\n    - {podSelector: {}, ipBlock: {cidr: 10.0.0.0/8}}\n',
      /may not specify both ipBlock and another peer/,
    ],
    [
      '  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 90, endPort: 80}\n',
      /spec\.ingress\[0\]\.ports\[0\]\.endPort: Invalid value: 80/,
    ],
    [
      '  podSelector: {}\n  ingress:\n  - ports:\n    - {port: http}\n',
      /ports\[0\]\.port: .*named ports are not supported/,
    ],
    ['  podSelector: {}\n  ingres: []\n', /spec: Unsupported field: unknown field "ingres"/],
    ['  ingress: []\n', /spec\.podSelector: /],
    ['  podSelector: {}\n  policyTypes: [Inbound]\n', /spec\.policyTypes\[0\]: Unsupported value/],
  ];
  for (const [spec, re] of bad) assert.throws(() => parsePolicies(doc(spec), 'f'), re, spec);
  assert.throws(
    () => parsePolicies(doc('  podSelector: {}\n', 'name: Bad_Name'), 'f'),
    /metadata\.name: Invalid value/,
  );
  assert.throws(() => parsePolicies('kind: Service\n', 'f'), /f: document 1: apiVersion: Unsupported value/);
  assert.throws(() => parsePolicies('a: [', 'f'), /f: document 1: not YAML/);
  assert.throws(() => parsePolicies('', 'f'), /f: no NetworkPolicy in it/);
});
