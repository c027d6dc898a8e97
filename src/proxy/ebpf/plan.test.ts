import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyService } from '../model';
import { planSync, planSize, type Plan } from './plan';

const svc = (name: string, ip: string, eps: string[], affinitySeconds?: number): ProxyService => ({
  name,
  portName: '',
  clusterIp: ip,
  port: 80,
  protocol: 'tcp',
  ...(affinitySeconds ? { affinitySeconds } : {}),
  endpoints: eps.map((e, i) => ({ ip: e, port: 8080, node: 'n1', pod: `${name}-${i}` })),
});

const a = svc('a', '10.96.0.1', ['10.244.1.2', '10.244.1.3']);
const b = svc('b', '10.96.0.2', ['10.244.1.4']);

test('a first sync writes every slot, then every Service port, with ids from 1', () => {
  const p = planSync(new Map(), [a, b]);
  assert.deepEqual(
    p.backendWrites.map((w) => [w.id, w.slot, w.addr.ip]),
    [
      [1, 0, '10.244.1.2'],
      [1, 1, '10.244.1.3'],
      [2, 0, '10.244.1.4'],
    ],
  );
  assert.deepEqual(
    p.serviceWrites.map((w) => [w.key.ip, w.value.id, w.value.count]),
    [
      ['10.96.0.1', 1, 2],
      ['10.96.0.2', 2, 1],
    ],
  );
  assert.equal(planSize(p), 5);
});

test('a change writes only what differs: a shrunk port, its dropped slot, a removed port', () => {
  const first: Plan = planSync(new Map(), [a, b]);
  const a2 = svc('a', '10.96.0.1', ['10.244.1.2']);
  const p = planSync(first.after, [a2], [a, b]);
  assert.deepEqual(
    p.serviceWrites.map((w) => [w.value.id, w.value.count]),
    [[1, 1]],
  );
  assert.deepEqual(
    p.backendWrites.map((w) => [w.id, w.slot]),
    [[1, 0]],
  );
  assert.deepEqual(
    p.serviceDeletes.map((k) => k.ip),
    ['10.96.0.2'],
  );
  assert.deepEqual(
    p.backendDeletes.map((d) => [d.id, d.slot]),
    [
      [2, 0],
      [1, 1],
    ],
  );
  // nothing changed: nothing written
  assert.equal(planSize(planSync(p.after, [a2], [a2])), 0);
  // no endpoints: the port stays, with count 0 (refused), and its slot goes
  const none = planSync(p.after, [svc('a', '10.96.0.1', [])], [a2]);
  assert.deepEqual(none.serviceWrites[0]!.value.count, 0);
  assert.deepEqual(none.backendDeletes, [{ id: 1, slot: 0 }]);
});

test("a removed port's id is not reused in the same sync; later it is; affinity is written", () => {
  const first = planSync(new Map(), [a, b]);
  const c = svc('c', '10.96.0.3', ['10.244.1.9'], 30);
  const p = planSync(first.after, [a, c], [a, b]);
  assert.equal(p.serviceWrites[0]!.value.id, 3);
  assert.equal(p.serviceWrites[0]!.value.affinitySeconds, 30);
  const d = svc('d', '10.96.0.4', ['10.244.1.10']);
  assert.equal(planSync(p.after, [a, c, d], [a, c]).serviceWrites[0]!.value.id, 2);
  // without `previous` (a full sync) every port is written again, with the ids it has
  const full = planSync(p.after, [a, c]);
  assert.deepEqual(
    full.serviceWrites.map((w) => w.value.id),
    [1, 3],
  );
});

test('a partial plan is the same whether unchanged ports come as the same objects or as equal copies', () => {
  const c = svc('c', '10.96.0.3', ['10.244.1.5']);
  const d = svc('d', '10.96.0.4', ['10.244.1.6'], 30);
  const first = planSync(new Map(), [a, b, c, d]);
  // b changed, c removed, e added, d re-created at the same key with another affinity, a as it was
  const e = svc('e', '10.96.0.5', ['10.244.1.7']);
  const wanted = [a, svc('b', '10.96.0.2', ['10.244.1.4', '10.244.1.8']), svc('d', '10.96.0.4', ['10.244.1.6'], 60), e];
  const same = planSync(first.after, wanted, [a, b, c, d]);
  const copies = planSync(
    first.after,
    wanted,
    [a, b, c, d].map((s) => ({ ...s })),
  );
  const full = planSync(first.after, wanted);
  const shape = (p: Plan) => ({
    writes: p.serviceWrites.map((w) => `${w.key.ip}=${w.value.id}/${w.value.count}/${w.value.affinitySeconds}`).sort(),
    deletes: p.serviceDeletes.map((k) => k.ip).sort(),
    backendDeletes: p.backendDeletes.map((x) => `${x.id}:${x.slot}`).sort(),
    after: [...p.after.values()].map((x) => `${x.key.ip}=${x.value.id}/${x.value.count}`).sort(),
  });
  assert.deepEqual(shape(same), shape(copies));
  assert.deepEqual(shape(same).writes, ['10.96.0.2=2/2/0', '10.96.0.4=4/1/60', '10.96.0.5=5/1/0']);
  assert.deepEqual(shape(same).deletes, ['10.96.0.3']);
  assert.deepEqual(shape(same).backendDeletes, ['3:0']);
  // a full plan writes every port again, and reaches the same maps
  assert.deepEqual(shape(full).after, shape(same).after);
  assert.equal(full.serviceWrites.length, 4);
});
