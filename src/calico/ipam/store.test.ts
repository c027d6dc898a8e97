import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IpamStore, poolProblem, type CalicoMode, type PoolConfig } from './store';
import { openStore, tmp, type T } from './store-fixture';
import { isCnilabError, type ErrorCode } from '../../lib/errors';

const CONFIG: PoolConfig = { pool: '10.244.0.0/16', blockSize: 26, mode: 'bgp' };

const open = (t: T, file: string, config = CONFIG): IpamStore => openStore(t, file, config);

/** A store with node1 (198.18.0.2) and node2 (198.18.0.3) registered. */
function withNodes(t: T, config = CONFIG): IpamStore {
  const s = open(t, join(tmp(t), 'ipam.db'), config);
  s.putNode({ name: 'node1', ip: '198.18.0.2' });
  s.putNode({ name: 'node2', ip: '198.18.0.3' });
  return s;
}

/** A matcher for assert.throws: a CnilabError of `code` whose message matches `message`. */
const cnilab =
  (code: ErrorCode, message: RegExp = /./) =>
  (e: unknown): boolean => {
    assert.ok(isCnilabError(e, code), `expected CnilabError ${code}, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  };

/** Resolves when `p` does, fails the test if it takes longer than `ms`. */
async function within<V>(p: Promise<V>, ms: number, what: string): Promise<V> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const blocksOf = (s: IpamStore, node: string): string[] =>
  s
    .snapshot()
    .blocks.filter((b) => b.node === node)
    .map((b) => b.cidr);

test('poolProblem: names the field that is wrong, and passes a pool that fits', () => {
  assert.match(
    poolProblem({ ...CONFIG, mode: 'gre' as CalicoMode }, 1) ?? '',
    /^mode: "gre" is not one of bgp, vxlan, ipip$/,
  );
  const small = poolProblem({ ...CONFIG, pool: '10.244.0.0/25' }, 3) ?? '';
  assert.match(small, /^pool: /);
  assert.match(small, /10\.244\.0\.0\/25 holds 2 \/26 block\(s\), fewer than one per node \(3 compute nodes\)/);
  assert.equal(poolProblem({ ...CONFIG, pool: '10.244.0.0/25' }, 2), undefined, 'two blocks serve two nodes');
  for (const blockSize of [19, 31, 26.5])
    assert.match(poolProblem({ ...CONFIG, blockSize }, 1) ?? '', /^blockSize: .*must be between \/20 and \/30/);
  assert.match(
    poolProblem({ ...CONFIG, pool: '10.244.0.0/24', blockSize: 22 }, 1) ?? '',
    /^blockSize: \/22 is larger than the pool 10\.244\.0\.0\/24/,
  );
  assert.equal(poolProblem(CONFIG, 3), undefined);
  assert.equal(poolProblem({ pool: '10.244.0.0/24', blockSize: 26, mode: 'vxlan' }, 4), undefined);
});

test('a store is not opened on a config poolProblem refuses', (t) => {
  const dir = tmp(t);
  assert.throws(
    () => new IpamStore(join(dir, 'a.db'), { ...CONFIG, blockSize: 31 }),
    cnilab('INVALID_INPUT', /^blockSize:/),
  );
  assert.throws(
    () => new IpamStore(join(dir, 'b.db'), { ...CONFIG, mode: 'gre' as CalicoMode }),
    cnilab('INVALID_INPUT', /^mode:/),
  );
});

test('assign on a node that is not registered is NOT_FOUND; a bad handle is INVALID_INPUT', (t) => {
  const s = withNodes(t);
  assert.throws(() => s.assign('h1', 'node9'), cnilab('NOT_FOUND', /node: node9 is not registered/));
  assert.throws(() => s.assign('', 'node1'), cnilab('INVALID_INPUT', /^handle:/));
  assert.throws(() => s.assign('has space', 'node1'), cnilab('INVALID_INPUT', /^handle:/));
  assert.deepEqual(s.snapshot().blocks, [], 'a refused assign claims no block');
});

test("a node's first address claims the pool's first free block, affine to it; another node gets another block", (t) => {
  const s = withNodes(t);
  const a = s.assign('h1', 'node1');
  assert.deepEqual(a, { ip: '10.244.0.0', block: '10.244.0.0/26', handle: 'h1', node: 'node1' });
  assert.deepEqual(s.snapshot().blocks, [{ cidr: '10.244.0.0/26', node: 'node1', allocated: 1 }]);
  const b = s.assign('h2', 'node2');
  assert.equal(b.block, '10.244.0.64/26');
  assert.equal(b.ip, '10.244.0.64');
  assert.equal(s.assign('h3', 'node1').block, '10.244.0.0/26', "node1's next address comes from its own block");
  assert.deepEqual(s.snapshot().blocks, [
    { cidr: '10.244.0.0/26', node: 'node1', allocated: 2 },
    { cidr: '10.244.0.64/26', node: 'node2', allocated: 1 },
  ]);
});

test("the 65th address of one node claims its second block; all 65 are distinct and in the node's blocks", (t) => {
  const s = withNodes(t);
  s.assign('other', 'node2'); // node2 takes 10.244.0.0/26 first: node1's blocks are the next free ones
  const ips: string[] = [];
  for (let i = 0; i < 64; i++) ips.push(s.assign(`h${i}`, 'node1').ip);
  assert.deepEqual(blocksOf(s, 'node1'), ['10.244.0.64/26'], '64 addresses fit one /26');
  const last = s.assign('h64', 'node1');
  ips.push(last.ip);
  assert.equal(last.block, '10.244.0.128/26');
  assert.deepEqual(blocksOf(s, 'node1'), ['10.244.0.64/26', '10.244.0.128/26']);
  assert.equal(new Set(ips).size, 65);
  assert.equal(s.allocations('node1').length, 65);
  assert.deepEqual(
    s.snapshot().blocks.map((b) => [b.cidr, b.allocated]),
    [
      ['10.244.0.0/26', 1],
      ['10.244.0.64/26', 64],
      ['10.244.0.128/26', 1],
    ],
  );
});

test('the same handle assigned again gets the address it holds (a retried ADD)', (t) => {
  const s = withNodes(t);
  const first = s.assign('ctr1/eth0', 'node1');
  s.assign('ctr2/eth0', 'node1');
  assert.deepEqual(s.assign('ctr1/eth0', 'node1'), first);
  assert.equal(s.allocations('node1').length, 2);
});

test('release frees the address for the next handle; an unknown handle releases nothing', (t) => {
  const s = withNodes(t);
  const h1 = s.assign('h1', 'node1');
  s.assign('h2', 'node1');
  assert.equal(s.release('h1'), 1);
  assert.equal(s.release('h1'), 0);
  assert.equal(s.release('nobody'), 0);
  assert.equal(s.assign('h3', 'node1').ip, h1.ip);
  assert.deepEqual(blocksOf(s, 'node1'), ['10.244.0.0/26'], 'no new block for a freed address');
});

test("gc releases only that node's handles with the prefix that are not kept, and returns them", (t) => {
  const s = withNodes(t);
  for (const h of ['k8s/a', 'k8s/b', 'k8s/c', 'other/d']) s.assign(h, 'node1');
  s.assign('k8s/e', 'node2');
  const gone = s.gc('node1', 'k8s/', ['k8s/b']);
  assert.deepEqual([...gone].sort(), ['k8s/a', 'k8s/c']);
  assert.deepEqual(
    s
      .allocations()
      .map((a) => `${a.node} ${a.handle}`)
      .sort(),
    ['node1 k8s/b', 'node1 other/d', 'node2 k8s/e'],
  );
  assert.deepEqual(s.gc('node1', 'k8s/', ['k8s/b']), [], 'a second gc finds nothing');
});

test("deleteNode frees the node's blocks and allocations, bumps the index and wakes watchers", async (t) => {
  const s = withNodes(t);
  s.assign('h1', 'node1');
  s.assign('h2', 'node1');
  s.assign('h3', 'node2');
  const index = s.index;
  const woke = s.waitForChange(index, 30_000);
  assert.equal(s.deleteNode('node1'), true);
  await within(woke, 2000, 'waitForChange after deleteNode');
  assert.ok(s.index > index);
  assert.deepEqual(s.allocations('node1'), []);
  assert.deepEqual(blocksOf(s, 'node1'), []);
  assert.deepEqual(
    s.snapshot().nodes.map((n) => n.name),
    ['node2'],
  );
  assert.equal(s.allocations().length, 1);
  // The freed block is free again.
  s.putNode({ name: 'node3', ip: '198.18.0.4' });
  assert.equal(s.assign('h4', 'node3').block, '10.244.0.0/26');
  const after = s.index;
  assert.equal(s.deleteNode('node9'), false);
  assert.equal(s.index, after, 'deleting an unknown node changes nothing');
  // A watcher behind the index returns at once.
  await within(s.waitForChange(index, 30_000), 2000, 'waitForChange behind the index');
});

test('a file of another pool, block size or mode is refused in one line; the same config keeps its state', (t) => {
  const file = join(tmp(t), 'ipam.db');
  const s = open(t, file);
  s.putNode({ name: 'node1', ip: '198.18.0.2', vtepMac: 'aa:bb:cc:dd:ee:01', vtepIp: '10.244.0.0' });
  s.assign('h1', 'node1');
  s.assign('h2', 'node1');
  const before = s.snapshot();
  const allocations = s.allocations();
  s.close();
  for (const other of [
    { ...CONFIG, pool: '10.99.0.0/16' },
    { ...CONFIG, blockSize: 24 },
    { ...CONFIG, mode: 'vxlan' as const },
  ]) {
    assert.throws(
      () => new IpamStore(file, other),
      cnilab('INVALID_INPUT', /^[^\n]*holds the pool 10\.244\.0\.0\/16 \(\/26 blocks, bgp\), not [^\n]*$/),
      JSON.stringify(other),
    );
  }
  const reopened = open(t, file);
  assert.deepEqual(reopened.snapshot(), before);
  assert.deepEqual(reopened.allocations(), allocations);
  assert.equal(reopened.assign('h1', 'node1').ip, allocations[0]!.ip, 'a handle held before keeps its address');
  assert.equal(reopened.assign('h3', 'node1').ip, '10.244.0.2');
});

test("putNode refuses another node's ip (CONFLICT); re-putting a node unchanged does not bump the index", (t) => {
  const s = withNodes(t);
  assert.throws(
    () => s.putNode({ name: 'node3', ip: '198.18.0.2' }),
    cnilab('CONFLICT', /ip: 198\.18\.0\.2 is already node node1's/),
  );
  assert.deepEqual(
    s.snapshot().nodes.map((n) => n.name),
    ['node1', 'node2'],
  );
  const i = s.index;
  s.putNode({ name: 'node1', ip: '198.18.0.2' });
  assert.equal(s.index, i);
  s.putNode({ name: 'node1', ip: '198.18.0.2', vtepMac: 'aa:bb:cc:dd:ee:01' });
  assert.equal(s.index, i + 1, 'a new VTEP MAC is news to peers');
});

test('the index moves on a block claim, not on an allocation or a release inside a claimed block', (t) => {
  const s = withNodes(t);
  const start = s.index;
  s.assign('h1', 'node1');
  assert.equal(s.index, start + 1, 'the first address claims a block');
  s.assign('h2', 'node1');
  s.release('h2');
  s.gc('node1', 'h', []);
  assert.equal(s.index, start + 1);
  s.assign('h3', 'node2');
  assert.equal(s.index, start + 2);
});

test('a pool with no free block left refuses the next node with CONFLICT', (t) => {
  const s = withNodes(t, { pool: '10.244.0.0/26', blockSize: 26, mode: 'vxlan' });
  s.assign('h1', 'node1');
  assert.throws(
    () => s.assign('h2', 'node2'),
    cnilab('CONFLICT', /pool 10\.244\.0\.0\/26 has no free \/26 block left for node node2/),
  );
});

test("a node may not register another's VTEP MAC or address, nor an address of another's block", (t) => {
  const s = withNodes(t);
  const a = s.assign('h1', 'node1');
  s.putNode({ name: 'node1', ip: '198.18.0.2', vtepMac: '0a:00:00:00:00:01', vtepIp: a.ip });
  const two = { name: 'node2', ip: '198.18.0.3' };
  assert.throws(
    () => s.putNode({ ...two, vtepMac: '0A:00:00:00:00:01' }),
    /vtepMac: 0A:00:00:00:00:01 is node node1's VTEP/,
  );
  assert.throws(() => s.putNode({ ...two, vtepIp: a.ip }), /vtepIp: 10\.244\.0\.0 is node node1's VTEP/);
  assert.throws(
    () => s.putNode({ ...two, vtepIp: '10.244.0.9' }),
    /vtepIp: 10\.244\.0\.9 is in node node1's block 10\.244\.0\.0\/26/,
  );
  const b = s.assign('h2', 'node2');
  assert.deepEqual(s.putNode({ ...two, vtepMac: '0a:00:00:00:00:02', vtepIp: b.ip }), {
    ...two,
    vtepMac: '0a:00:00:00:00:02',
    vtepIp: b.ip,
  });
});

test("a node may not register another's WireGuard key or address; its own are kept and change the revision", (t) => {
  const s = withNodes(t);
  const a = s.assign('wireguard-tunnel-addr-node1', 'node1');
  const key1 = 'QqA0yQJIJCkQU51hr1dEcMSKgs03F20/fgn2mXrWg0M=';
  s.putNode({ name: 'node1', ip: '198.18.0.2', wireguardPublicKey: key1, wireguardIp: a.ip });
  const two = { name: 'node2', ip: '198.18.0.3' };
  assert.throws(
    () => s.putNode({ ...two, wireguardPublicKey: key1 }),
    cnilab('CONFLICT', /wireguardPublicKey: .* is node node1's WireGuard key/),
  );
  assert.throws(
    () => s.putNode({ ...two, wireguardIp: a.ip }),
    cnilab('CONFLICT', /wireguardIp: 10\.244\.0\.0 is node node1's WireGuard address/),
  );
  assert.throws(() => s.putNode({ ...two, vtepIp: a.ip }), /vtepIp: 10\.244\.0\.0 is node node1's VTEP/);
  const before = s.snapshot().index;
  s.putNode({ ...two, wireguardPublicKey: 'peFCfAO28kWQYA8NtsLeRkfmtpL8ROixFvLPZVl98CY=' });
  const after = s.snapshot();
  assert.ok(after.index > before, 'a new key wakes the peers');
  assert.deepEqual(
    after.nodes.map((n) => [n.name, n.wireguardPublicKey, n.wireguardIp]),
    [
      ['node1', key1, a.ip],
      ['node2', 'peFCfAO28kWQYA8NtsLeRkfmtpL8ROixFvLPZVl98CY=', undefined],
    ],
  );
});

test('a store made before WireGuard gains its columns and keeps its nodes', (t) => {
  const file = join(tmp(t), 'ipam.db');
  const old = new Database(file);
  old.exec(
    'CREATE TABLE nodes (name TEXT PRIMARY KEY, ip TEXT NOT NULL UNIQUE, vtep_mac TEXT, vtep_ip TEXT);' +
      "INSERT INTO nodes VALUES ('node1', '198.18.0.2', NULL, NULL);",
  );
  old.close();
  const s = open(t, file);
  assert.deepEqual(s.snapshot().nodes, [{ name: 'node1', ip: '198.18.0.2' }]);
  s.putNode({ name: 'node2', ip: '198.18.0.3', wireguardPublicKey: 'QqA0yQJIJCkQU51hr1dEcMSKgs03F20/fgn2mXrWg0M=' });
  assert.equal(s.snapshot().nodes[1]!.wireguardPublicKey, 'QqA0yQJIJCkQU51hr1dEcMSKgs03F20/fgn2mXrWg0M=');
});
