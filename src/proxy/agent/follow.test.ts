import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyService } from '../model';
import { ServiceView, type ProxyChanges } from './follow';

const svc = (name: string, ip: string, endpoints: string[] = []): ProxyService => ({
  name,
  portName: '',
  clusterIp: ip,
  port: 80,
  protocol: 'tcp',
  endpoints: endpoints.map((e, i) => ({ ip: e, port: 8080, node: 'node1', pod: `p${i}` })),
});
const answer = (o: Partial<ProxyChanges>): ProxyChanges => ({
  revision: 1,
  full: false,
  services: [],
  removed: [],
  clusterCidr: '10.244.0.0/16',
  serviceCidr: '10.96.0.0/16',
  ...o,
});

test('ServiceView: a full answer replaces, a partial one changes and removes only what it names, sorted by name', () => {
  const v = new ServiceView();
  assert.equal(
    v.apply(answer({ full: true, revision: 3, services: [svc('b', '10.96.0.2'), svc('a', '10.96.0.1')] })),
    true,
  );
  assert.deepEqual(
    v.input('node1').services.map((s) => s.name),
    ['a', 'b'],
  );
  v.apply(
    answer({
      revision: 4,
      services: [svc('c', '10.96.0.3'), svc('a', '10.96.0.1', ['10.244.1.2'])],
      removed: [{ name: 'b', portName: '' }],
    }),
  );
  const input = v.input('node1');
  assert.deepEqual(
    input.services.map((s) => [s.name, s.endpoints.length]),
    [
      ['a', 1],
      ['c', 0],
    ],
  );
  assert.equal(input.serviceCidr, '10.96.0.0/16');
  assert.equal(v.revision, 4);
  // the long poll ended with nothing new
  assert.equal(v.apply(answer({ revision: 4 })), false);
  // behind the tombstones: everything again, and what is not in it is gone
  v.apply(answer({ full: true, revision: 9, services: [svc('z', '10.96.0.9')] }));
  assert.deepEqual(
    v.input('node1').services.map((s) => s.name),
    ['z'],
  );
});

test('ServiceView: a change in place keeps the order and every other port the same object; a new port sorts again', () => {
  const v = new ServiceView();
  v.apply(
    answer({
      full: true,
      revision: 1,
      services: [svc('c', '10.96.0.3'), svc('a', '10.96.0.1'), svc('b', '10.96.0.2')],
    }),
  );
  const first = v.input('node1').services;
  v.apply(answer({ revision: 2, services: [svc('b', '10.96.0.2', ['10.244.1.2'])] }));
  const second = v.input('node1').services;
  assert.deepEqual(
    second.map((s) => [s.name, s.endpoints.length]),
    [
      ['a', 0],
      ['b', 1],
      ['c', 0],
    ],
  );
  assert.equal(second[0], first[0], 'an unchanged port is the same object');
  assert.equal(second[2], first[2]);
  assert.notEqual(second[1], first[1]);
  v.apply(answer({ revision: 3, services: [svc('aa', '10.96.0.4')] }));
  assert.deepEqual(
    v.input('node1').services.map((s) => s.name),
    ['a', 'aa', 'b', 'c'],
  );
});
