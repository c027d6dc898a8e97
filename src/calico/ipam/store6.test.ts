import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IpamStore, poolProblem, type PoolConfig } from './store';
import { openStore, tmp, type T } from './store-fixture';
import { isCnilabError } from '../../lib/errors';

const CONFIG: PoolConfig = { pool: '10.244.0.0/16', blockSize: 26, mode: 'bgp', pool6: 'fd00:10:244::/56' };

const open = (t: T, file: string, config = CONFIG): IpamStore => openStore(t, file, config);

function withNodes(t: T, config = CONFIG): IpamStore {
  const s = open(t, join(tmp(t), 'ipam.db'), config);
  s.putNode({ name: 'node1', ip: '198.18.0.2', ip6: '2001:2::2' });
  s.putNode({ name: 'node2', ip: '198.18.0.3', ip6: '2001:2::3' });
  return s;
}

test('poolProblem: an IPv6 pool too small for the nodes, or not IPv6, is named in one line', () => {
  assert.equal(poolProblem(CONFIG, 100), undefined);
  assert.match(poolProblem({ ...CONFIG, pool6: 'fd00::/123' }, 2)!, /^blockSize6: \/122 is larger than the pool/);
  assert.match(poolProblem({ ...CONFIG, pool6: 'fd00::/120' }, 5)!, /^pool6: .* holds 4 \/122 block\(s\), fewer/);
  assert.match(poolProblem({ ...CONFIG, pool6: '10.0.0.0/8' }, 1)!, /^pool6: .* is not an IPv6 network/);
  assert.match(poolProblem({ ...CONFIG, blockSize6: 100 }, 1)!, /^blockSize6: \/100 must be between/);
});

test('IPv6: a node claims a /122 block affine to it; another node another; addresses are canonical', (t) => {
  const s = withNodes(t);
  const a = s.assign('net/c1/eth0', 'node1', 6);
  assert.deepEqual(a, { ip: 'fd00:10:244::', block: 'fd00:10:244::/122', handle: 'net/c1/eth0', node: 'node1' });
  const b = s.assign('net/c2/eth0', 'node2', 6);
  assert.equal(b.block, 'fd00:10:244::40/122');
  assert.equal(s.assign('net/c3/eth0', 'node1', 6).ip, 'fd00:10:244::1');
  const blocks = s.snapshot().blocks;
  assert.deepEqual(
    blocks.map((x) => [x.cidr, x.node, x.allocated]),
    [
      ['fd00:10:244::/122', 'node1', 2],
      ['fd00:10:244::40/122', 'node2', 1],
    ],
  );
  assert.deepEqual(s.snapshot().nodes[0], { name: 'node1', ip: '198.18.0.2', ip6: '2001:2::2' });
});

test('dual-stack: one handle holds one address per family; a retry gets them again; release frees both', (t) => {
  const s = withNodes(t);
  const v4 = s.assign('net/c1/eth0', 'node1', 4);
  const v6 = s.assign('net/c1/eth0', 'node1', 6);
  assert.equal(v4.ip, '10.244.0.0');
  assert.equal(v6.ip, 'fd00:10:244::');
  assert.deepEqual(s.assign('net/c1/eth0', 'node1', 6), v6);
  assert.deepEqual(s.handleOwners('net/c1/eth0'), ['node1']);
  assert.deepEqual(
    s.allocations('node1').map((x) => x.ip),
    ['10.244.0.0', 'fd00:10:244::'],
  );
  assert.equal(s.release('net/c1/eth0', 'node1'), 2);
  assert.deepEqual(s.allocations(), []);
  assert.equal(s.assign('net/c2/eth0', 'node1', 6).ip, 'fd00:10:244::');
});

test('IPv6: the 65th address claims a second block; gc and deleteNode free IPv6 too', (t) => {
  const s = withNodes(t);
  const ips = new Set<string>();
  for (let i = 0; i < 65; i++) ips.add(s.assign(`net/c${i}/eth0`, 'node1', 6).ip);
  assert.equal(ips.size, 65);
  assert.deepEqual(
    s.snapshot().blocks.map((b) => b.cidr),
    ['fd00:10:244::/122', 'fd00:10:244::40/122'],
  );
  assert.equal(s.gc('node1', 'net/', ['net/c0/eth0']).length, 64);
  const index = s.index;
  assert.equal(s.deleteNode('node1'), true);
  assert.ok(s.index > index);
  assert.deepEqual(s.snapshot().blocks, []);
  assert.deepEqual(s.allocations(), []);
});

test('IPv6 asked of a store without an IPv6 pool is NOT_FOUND naming topology.podCidr6', (t) => {
  const s = withNodes(t, { pool: '10.244.0.0/16', blockSize: 26, mode: 'bgp' });
  assert.throws(
    () => s.assign('h', 'node1', 6),
    (e: unknown) => isCnilabError(e, 'NOT_FOUND') && /podCidr6/.test(e.message),
  );
});

test('a store made before IPv6 migrates on open: its nodes and blocks kept, an IPv6 pool added', (t) => {
  const file = join(tmp(t), 'ipam.db');
  const before = open(t, file, { pool: '10.244.0.0/16', blockSize: 26, mode: 'bgp' });
  before.putNode({ name: 'node1', ip: '198.18.0.2' });
  const v4 = before.assign('h1', 'node1');
  before.close();
  // Older still: the file of a store made before the ip6 column and the IPv6 tables.
  const db = new Database(file);
  db.exec('DROP TABLE allocations6; DROP TABLE blocks6; ALTER TABLE nodes DROP COLUMN ip6;');
  db.close();
  const s = open(t, file);
  assert.deepEqual(s.allocations(), [v4]);
  s.putNode({ name: 'node1', ip: '198.18.0.2', ip6: '2001:2::2' });
  assert.equal(s.assign('h1', 'node1', 6).ip, 'fd00:10:244::');
  s.close();
  // Once it holds an IPv6 pool, another is refused in one line.
  assert.throws(
    () => new IpamStore(file, { ...CONFIG, pool6: 'fd00:99::/56' }),
    (e: unknown) => isCnilabError(e, 'INVALID_INPUT') && /holds the IPv6 pool fd00:10:244::\/56/.test(e.message),
  );
});

test("putNode refuses another node's IPv6 underlay address (CONFLICT) and a bad one (INVALID_INPUT)", (t) => {
  const s = withNodes(t);
  assert.throws(
    () => s.putNode({ name: 'node3', ip: '198.18.0.4', ip6: '2001:2::2' }),
    (e: unknown) => isCnilabError(e, 'CONFLICT') && /^ip6: 2001:2::2 is already node node1's$/.test(e.message),
  );
  assert.throws(
    () => s.putNode({ name: 'node3', ip: '198.18.0.4', ip6: '198.18.0.4' }),
    (e: unknown) => isCnilabError(e, 'INVALID_INPUT') && /^ip6: /.test(e.message),
  );
});
