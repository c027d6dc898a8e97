import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fdbChanges, neighbourChanges, routeChanges } from './routes';

test('routeChanges: only the difference; a route via another gateway is replaced', () => {
  const c = routeChanges(
    'eth0',
    [
      { dst: '10.244.1.0/24', gateway: '198.18.0.2' },
      { dst: '10.244.2.0/24', gateway: '198.18.0.9' },
      { dst: '10.244.9.0/24', gateway: '198.18.0.9' },
    ],
    [
      { dst: '10.244.1.0/24', via: '198.18.0.2' },
      { dst: '10.244.2.0/24', via: '198.18.0.3' },
      { dst: '10.244.3.0/24', via: '10.244.3.0', onlink: true },
    ],
  );
  assert.deepEqual(c.del, [
    ['route', 'del', '10.244.2.0/24', 'dev', 'eth0', 'proto', '250'],
    ['route', 'del', '10.244.9.0/24', 'dev', 'eth0', 'proto', '250'],
  ]);
  assert.deepEqual(c.add, [
    ['route', 'replace', '10.244.2.0/24', 'via', '198.18.0.3', 'dev', 'eth0', 'proto', '250'],
    ['route', 'replace', '10.244.3.0/24', 'via', '10.244.3.0', 'onlink', 'dev', 'eth0', 'proto', '250'],
  ]);
});

test('routeChanges: nothing to do when the kernel holds what is wanted', () => {
  const c = routeChanges(
    'eth0',
    [{ dst: '10.244.1.0/24', gateway: '198.18.0.2' }],
    [{ dst: '10.244.1.0/24', via: '198.18.0.2' }],
  );
  assert.deepEqual(c, { del: [], add: [] });
});

test('neighbourChanges: a changed MAC is deleted and added; an entry already right is left alone', () => {
  const c = neighbourChanges(
    'flannel.1',
    [
      { dst: '10.244.1.0', lladdr: 'aa:aa:aa:aa:aa:01' },
      { dst: '10.244.2.0', lladdr: 'aa:aa:aa:aa:aa:02' },
    ],
    new Map([
      ['10.244.1.0', 'aa:aa:aa:aa:aa:01'],
      ['10.244.2.0', 'aa:aa:aa:aa:aa:22'],
    ]),
  );
  assert.deepEqual(c.del, [['neigh', 'del', '10.244.2.0', 'dev', 'flannel.1']]);
  assert.deepEqual(c.add, [
    ['neigh', 'replace', '10.244.2.0', 'lladdr', 'aa:aa:aa:aa:aa:22', 'dev', 'flannel.1', 'nud', 'permanent'],
  ]);
});

test('fdbChanges: the kernel’s own entries (no dst) are never touched', () => {
  const c = fdbChanges(
    'vxlan.calico',
    [
      { mac: 'aa:aa:aa:aa:aa:01' },
      { mac: 'aa:aa:aa:aa:aa:02', dst: '198.18.0.2' },
      { mac: 'aa:aa:aa:aa:aa:03', dst: '198.18.0.3' },
    ],
    new Map([
      ['aa:aa:aa:aa:aa:02', '198.18.0.2'],
      ['aa:aa:aa:aa:aa:04', '198.18.0.4'],
    ]),
  );
  assert.deepEqual(c.del, [['fdb', 'del', 'aa:aa:aa:aa:aa:03', 'dev', 'vxlan.calico', 'dst', '198.18.0.3']]);
  assert.deepEqual(c.add, [
    ['fdb', 'replace', 'aa:aa:aa:aa:aa:04', 'dev', 'vxlan.calico', 'dst', '198.18.0.4', 'self', 'permanent'],
  ]);
});
