import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceSpecSchema, type ServiceSpec } from './model';
import { ApiStore } from './store';

const CONFIG = { serviceCidr: '10.96.0.0/24', clusterCidr: '10.244.0.0/16' };

function open(t: { after: (f: () => void) => void }, o = {}): { store: ApiStore; reopen: () => ApiStore } {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-api-store-'));
  const file = join(dir, 'api.db');
  let store = new ApiStore(file, CONFIG, o);
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    store,
    reopen: () => {
      store.close();
      return (store = new ApiStore(file, CONFIG, o));
    },
  };
}

const spec = (s: ServiceSpec) => serviceSpecSchema.parse(s);
const web = (name: string, extra: Partial<ServiceSpec> = {}) =>
  spec({ name, ports: [{ port: 80, targetPort: 8080 }], selector: { app: name }, ...extra });

test('ClusterIPs: the lowest free after the reserved first; a given one in range and free; names and IPs once', (t) => {
  const { store } = open(t);
  const [a, b] = store.createServices([web('a'), web('b')]);
  assert.deepEqual([a!.clusterIp, b!.clusterIp], ['10.96.0.2', '10.96.0.3']);
  assert.equal(store.createServices([web('c', { clusterIp: '10.96.0.1' })])[0]!.clusterIp, '10.96.0.1');
  const code = (f: () => unknown) =>
    assert.throws(f, (e: { code: string; message: string }) => !!e.code && !!e.message);
  assert.throws(() => store.createServices([web('a')]), { code: 'CONFLICT', message: /^name: Service a exists/ });
  assert.throws(() => store.createServices([web('d', { clusterIp: '10.96.0.2' })]), {
    code: 'CONFLICT',
    message: /^clusterIp:/,
  });
  assert.throws(() => store.createServices([web('d', { clusterIp: '10.97.0.2' })]), {
    code: 'INVALID_INPUT',
    message: /^clusterIp:/,
  });
  assert.throws(() => store.createServices([web('d', { clusterIp: '10.96.0.255' })]), { code: 'INVALID_INPUT' });
  code(() => store.createServices([web('d'), web('d')]));
  assert.throws(() => store.createServices([web('e'), web('b')], (i) => `services.${i}`), {
    message: /^services\.1\.name:/,
  });
  assert.equal(store.service('e'), undefined, 'a batch is all or none');
  store.deleteService('a');
  assert.equal(store.createServices([web('f')])[0]!.clusterIp, '10.96.0.2', 'a freed address is the lowest again');
});

test('endpoints: a selector’s pods (every pair), or the listed ones, sorted by ip; the store’s own labels', (t) => {
  const { store } = open(t);
  store.putPod('p1', { node: 'node1', ip: '10.244.1.9', labels: { app: 'web', tier: 'fe' } });
  store.putPod('p2', { node: 'node2', ip: '10.244.1.10', labels: { app: 'web' } });
  store.putPod('p3', { node: 'node2', ip: '10.244.2.3', labels: { app: 'db' } });
  store.createServices([
    web('web'),
    spec({ name: 'fe', ports: [{ port: 80 }], selector: { app: 'web', tier: 'fe' } }),
    spec({ name: 'listed', ports: [{ port: 53, protocol: 'udp' }], pods: ['p3', 'p1', 'gone'] }),
    spec({ name: 'on2', ports: [{ port: 1 }], selector: { 'cnilab.io/node': 'node2' } }),
  ]);
  store.putPod('p4', { node: 'node1', ip: '10.244.1.4', labels: { app: 'web' } });
  const eps = (n: string) => store.service(n)!.endpoints.map((e) => e.pod);
  assert.deepEqual(eps('web'), ['p4', 'p1', 'p2']);
  store.setLabels('p4', { app: 'web-x' });
  assert.deepEqual(eps('web'), ['p1', 'p2'], '10.244.1.9 before 10.244.1.10: sorted as addresses');
  assert.deepEqual(eps('fe'), ['p1']);
  assert.deepEqual(eps('listed'), ['p1', 'p3']);
  assert.deepEqual(eps('on2'), ['p2', 'p3']);
  assert.deepEqual(store.pod('p1')!.labels, {
    app: 'web',
    tier: 'fe',
    'cnilab.io/node': 'node1',
    'cnilab.io/pod': 'p1',
  });
  assert.throws(() => store.putPod('p5', { node: 'node1', ip: '10.244.1.9' }), { code: 'CONFLICT', message: /^ip:/ });
  assert.throws(() => store.putPod('p5', { node: 'node1', ip: '10.1.1.1' }), {
    code: 'INVALID_INPUT',
    message: /^ip:/,
  });
  assert.throws(() => store.setLabels('p1', { 'cnilab.io/node': 'node9' }), { message: /^labels\.cnilab\.io\/node:/ });
  assert.throws(() => store.putPod('p1', { node: 'node1', ip: '10.244.1.9' }, 'node2'), { code: 'FORBIDDEN' });
  const proxy = store.proxy(0).services.find((s) => s.name === 'listed')!;
  assert.deepEqual(proxy.endpoints, [
    { ip: '10.244.1.9', port: 53, node: 'node1', pod: 'p1' },
    { ip: '10.244.2.3', port: 53, node: 'node2', pod: 'p3' },
  ]);
});

test('changes since R: exactly the Services whose endpoints a pod change changed; tombstones; reopen keeps all', (t) => {
  const { store, reopen } = open(t);
  store.putPod('p1', { node: 'node1', ip: '10.244.1.2', labels: { app: 'a' } });
  store.putPod('p2', { node: 'node1', ip: '10.244.1.3', labels: { app: 'b' } });
  store.createServices([
    web('a', { selector: { app: 'a' } }),
    web('b', { selector: { app: 'b' } }),
    web('c', { selector: { app: 'c' } }),
  ]);
  store.createServices([
    spec({
      name: 'two',
      ports: [
        { name: 'h', port: 80 },
        { name: 'q', port: 81 },
      ],
      pods: ['p2'],
    }),
  ]);
  const changed = (since: number) => [...new Set(store.proxy(since).services.map((s) => s.name))];
  let r = store.index;
  store.setLabels('p1', { app: 'c', other: 'x' });
  assert.deepEqual(changed(r), ['a', 'c'], 'relabel a → c');
  r = store.index;
  store.setLabels('p1', { app: 'c', other: 'y' });
  assert.deepEqual(changed(r), [], 'a label no selector reads changes no Service');
  assert.equal(store.index, r + 1, 'but it is a change');
  r = store.index;
  store.putPod('p2', { node: 'node2', ip: '10.244.1.3' });
  assert.deepEqual(changed(r), ['b', 'two'], 'an endpoint moved node');
  r = store.index;
  store.deletePod('p2');
  assert.deepEqual(changed(r), ['b', 'two']);
  r = store.index;
  store.deleteService('two');
  const since = store.proxy(r);
  assert.deepEqual(
    [since.full, since.services, since.removed],
    [
      false,
      [],
      [
        { name: 'two', portName: 'h' },
        { name: 'two', portName: 'q' },
      ],
    ],
  );
  assert.equal(store.proxy(0).full, true);
  assert.deepEqual(store.proxy(0).removed, []);
  const before = { pods: store.pods(), services: store.services(), since: store.proxy(r) };
  const again = reopen();
  assert.deepEqual({ pods: again.pods(), services: again.services(), since: again.proxy(r) }, before);
  assert.equal(again.createServices([web('d')])[0]!.clusterIp, '10.96.0.5', 'allocation after reopen');
});

test('tombstones beyond the kept count go; a watcher behind them gets everything', (t) => {
  const { store } = open(t, { maxRemoved: 2 });
  store.createServices([web('a'), web('b'), web('c')]);
  const r = store.index;
  for (const n of ['a', 'b', 'c']) store.deleteService(n);
  assert.equal(store.proxy(r).full, true, 'a went: since r is behind the horizon');
  assert.deepEqual(store.proxy(r + 1).removed, [
    { name: 'b', portName: '' },
    { name: 'c', portName: '' },
  ]);
  assert.equal(store.proxy(store.index + 5).full, true, 'a revision from another store');
});

test('a batch delete: every Service at one revision with its tombstones, or none when one is missing', (t) => {
  const { store } = open(t);
  store.createServices([web('a'), web('b'), web('c')]);
  const r = store.index;
  assert.throws(() => store.deleteServices(['a', 'x']), /^CnilabError: names\.1: Service x: no such Service$/);
  assert.throws(() => store.deleteServices(['a', 'a']), /names\.1: a is there twice/);
  assert.equal(store.index, r, 'a refused batch changes nothing');
  assert.deepEqual(store.deleteServices(['c', 'a']), ['c', 'a']);
  assert.equal(store.index, r + 1, 'one revision');
  assert.deepEqual(store.proxy(r).removed, [
    { name: 'a', portName: '' },
    { name: 'c', portName: '' },
  ]);
  assert.deepEqual(
    store.services().services.map((s) => s.name),
    ['b'],
  );
  assert.equal(
    store.createServices([web('d')])[0]!.clusterIp,
    '10.96.0.2',
    "a removed Service's ClusterIP is free again",
  );
});
