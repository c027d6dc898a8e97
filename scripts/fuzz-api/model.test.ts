import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, type Tokens } from './generate';
import { Model, type Exchange } from './model';
import { Rng } from './rng';

const x = (e: Partial<Exchange> & Pick<Exchange, 'method' | 'pathname'>): Exchange => ({
  node: 'node1',
  body: undefined,
  status: 200,
  answer: undefined,
  ...e,
});

test('the fuzzer’s model: a node’s 2xx write of what is not its own is named; the administrator’s never', () => {
  const m = new Model();
  assert.equal(m.ownership(x({ method: 'PUT', pathname: '/v1/leases/node1' })), undefined);
  assert.match(m.ownership(x({ method: 'PUT', pathname: '/v1/leases/node2' })) ?? '', /touched node2's/);
  assert.equal(m.ownership(x({ method: 'PUT', pathname: '/v1/leases/node2', status: 403 })), undefined);
  assert.equal(m.ownership(x({ method: 'PUT', pathname: '/v1/leases/node2', node: undefined })), undefined);
  const dhcp = { port: { id: 'p1', hostId: 'node1', deviceOwner: 'network:dhcp' } };
  assert.match(m.ownership(x({ method: 'POST', pathname: '/v2.0/ports', answer: dhcp })) ?? '', /administrator/);
  assert.match(m.ownership(x({ method: 'POST', pathname: '/v2.0/networks', status: 201 })) ?? '', /administrator/);
  assert.equal(m.ownership(x({ method: 'GET', pathname: '/v2.0/networks' })), undefined);
});

test('the fuzzer’s model follows the answers: what 2xx made, and what a node’s release freed of its own only', () => {
  const m = new Model();
  const assign = (node: string, handle: string): void =>
    m.apply(x({ method: 'POST', pathname: '/v3/ipam/assign', node, answer: { node, handle } }));
  assign('node1', 'h');
  assign('node2', 'h');
  m.apply(x({ method: 'POST', pathname: '/v3/ipam/release', node: 'node1', body: { handle: 'h' } }));
  assert.deepEqual([...m.allocations], ['node2 h']);
  m.apply(x({ method: 'DELETE', pathname: '/v3/nodes/node2', node: undefined, status: 404 }));
  assert.deepEqual([...m.allocations], [], 'a 404 removal still frees the node’s addresses');
  m.apply(
    x({ method: 'POST', pathname: '/v2.0/networks', node: undefined, answer: { network: { id: 'n1', name: 'a' } } }),
  );
  m.apply(x({ method: 'DELETE', pathname: '/v2.0/networks/a', node: undefined }));
  assert.deepEqual(m.refs('networks'), [], 'deleted by name');
});

test('the same seed generates the same requests', () => {
  const tokens: Tokens = { admin: 'A', nodes: { node1: 'N1', node2: 'N2' }, revoked: 'R' };
  const run = (seed: number): string[] => {
    const rng = new Rng(seed);
    const m = new Model();
    return Array.from({ length: 300 }, (_, i) => {
      const r = generate(rng, i, m, tokens);
      return `${r.sender} ${r.method} ${r.path} ${r.body?.toString('base64') ?? ''} ${r.raw?.length ?? ''}`;
    });
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});
