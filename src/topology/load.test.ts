import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/paths';
import { loadTopology, parseTopology } from './load';

test("the default topology is the paper's: 1 control + 3 compute nodes, a /24 each, 2 pods per node", () => {
  const t = parseTopology('', 'default');
  assert.deepEqual(
    t.nodes.map((n) => [n.name, n.role, n.underlay]),
    [
      ['control', 'control', '198.18.0.1/24'],
      ['node1', 'compute', '198.18.0.2/24'],
      ['node2', 'compute', '198.18.0.3/24'],
      ['node3', 'compute', '198.18.0.4/24'],
    ],
  );
  assert.equal(t.podCidr, '10.244.0.0/16');
  assert.deepEqual(
    t.pods.map((p) => p.name),
    ['node1-p1', 'node1-p2', 'node2-p1', 'node2-p2', 'node3-p1', 'node3-p2'],
  );
});

test('topologies/default.yaml says the same as the built-in default', () => {
  assert.deepEqual(loadTopology(join(REPO_ROOT, 'topologies/default.yaml')), parseTopology('', 'default'));
});

test('explicit nodes: control first, per-node pod counts, name override', () => {
  const t = parseTopology(
    'topology:\n  nodes:\n    a: {role: compute, pods: 1}\n    ctl: {role: control}\n    b: {role: compute}\n',
    'x.yaml',
    { name: 'other' },
  );
  assert.equal(t.name, 'other');
  assert.deepEqual(
    t.nodes.map((n) => n.name),
    ['ctl', 'a', 'b'],
  );
  assert.deepEqual(
    t.pods.map((p) => p.name),
    ['a-p1', 'b-p1', 'b-p2'],
  );
});

const bad: [string, RegExp][] = [
  ['topology: [', /^t\.yaml: line 1 not valid YAML/],
  ['- a\n- b', /^t\.yaml: must be a mapping/],
  ['name: Bad_Name', /^t\.yaml: name: must be 1–32 characters/],
  ['topology: {computeNodes: 0}', /^t\.yaml: topology\.computeNodes: 0 compute nodes: must be from 1 to 64$/],
  ['topology: {computeNodes: 500}', /^t\.yaml: topology\.computeNodes: 500 compute nodes: must be from 1 to 64$/],
  ['topology: {podCidr: 198.18.0.0/16}', /^t\.yaml: topology\.podCidr: 198\.18\.0\.0\/16 overlaps the underlay/],
  [
    'topology: {underlay: {cidr: 10.1.0.0/24}}',
    /^t\.yaml: topology\.underlay\.cidr: .* must lie inside 198\.18\.0\.0\/15/,
  ],
  ['topology: {podCidr: 10.244.0.1/16}', /^t\.yaml: topology\.podCidr: must be an IPv4 CIDR with no host bits/],
  ['topology: {colour: red}', /^t\.yaml: topology: unknown field "colour"$/],
  [
    'topology: {nodes: {n1: {role: compute}}}',
    /^t\.yaml: topology\.nodes: must have exactly one node with role: control$/,
  ],
  [
    'topology: {nodes: {switch: {role: control}, n1: {role: compute}}}',
    /^t\.yaml: topology\.nodes\.switch: .*reserved/,
  ],
  [
    'topology: {podCidr: 10.244.0.0/23, subnetLength: 24}',
    /^t\.yaml: topology\.podCidr: 10\.244\.0\.0\/23 holds 1 \/24 node subnets, fewer than 3/,
  ],
  ['topology: {underlay: {mtu: 100}}', /^t\.yaml: topology\.underlay\.mtu: /],
  [
    'topology: {defaults: {pods: 254}}',
    /^t\.yaml: topology\.defaults\.pods: 254 pods on a node, but a \/24 node subnet holds 253; set subnetLength: 23 or shorter/,
  ],
  [
    'topology: {nodes: {control: {role: control}, n1: {role: compute, pods: 1000}}}',
    /^t\.yaml: topology\.nodes\.n1\.pods: 1000 pods on a node, but a \/24 node subnet holds 253; set subnetLength: 22 /,
  ],
];

test('pods per node are not capped at 16 any more: a node subnet full of pods, and 20 nodes × 50', () => {
  assert.equal(parseTopology('topology: {defaults: {pods: 253}}', 't.yaml').pods.length, 3 * 253);
  const big = parseTopology('topology: {computeNodes: 20, defaults: {pods: 50}}', 't.yaml');
  assert.equal(big.pods.length, 1000);
  assert.equal(big.pods[999]!.name, 'node20-p50');
});

for (const [yaml, want] of bad) {
  test(`bad topology is one clear line: ${yaml.replace(/\n/g, ' ')}`, () => {
    assert.throws(
      () => parseTopology(yaml, 't.yaml'),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INVALID_TOPOLOGY');
        assert.match(e.message, want);
        assert.equal(e.message.includes('\n'), false, 'one line');
        return true;
      },
    );
  });
}

test('a missing file is named', () => {
  assert.throws(
    () => loadTopology('/nonexistent/t.yaml'),
    /^Error: \/nonexistent\/t\.yaml: cannot read \(ENOENT\)|\/nonexistent\/t\.yaml: cannot read \(ENOENT\)/,
  );
  assert.ok(readFileSync(join(REPO_ROOT, 'topologies/default.yaml'), 'utf8').includes('198.18.0.0/24'));
});
