/**
 * The eBPF policy design's pure parts: identities kept and allocated, blocks resolved through the
 * ipcache's prefixes (pods inside, excepts out), port ranges as LPM prefixes, and the entries an
 * endpoint gets — checked on hand-made inputs, key bytes decoded back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyInput } from '../../policy/model';
import { parseIPv4 } from '../../lib/ip';
import {
  allocateIdentities,
  blockIdentities,
  desired,
  diff,
  endpointEntries,
  plan,
  portPrefixes,
  prefixesOf,
} from './desired';
import { decodePolicyKey, epKey, ipcacheKey, policyKey, unhex } from './maps';

const key = (cidr: string): string => {
  const [a, p] = cidr.split('/');
  return ipcacheKey(parseIPv4(a!), Number(p));
};

const input: PolicyInput = {
  node: 'node1',
  revision: 3,
  pods: [
    { name: 'a', ip: '10.244.1.2', node: 'node1', labels: {} },
    { name: 'b', ip: '10.244.1.3', node: 'node1', labels: {} },
    { name: 'c', ip: '10.244.2.2', node: 'node2', labels: {} },
  ],
  policies: [
    {
      key: 'default/p',
      ingress: [
        { peers: { pods: ['b'], blocks: [] }, ports: [{ protocol: 'tcp', from: 8000, to: 8003 }] },
        { peers: { pods: [], blocks: [{ cidr: '10.244.0.0/16', except: ['10.244.2.0/24'] }] }, ports: 'any' },
      ],
    },
  ],
  endpoints: [
    { pod: 'a', ip: '10.244.1.2', ingress: ['default/p'], egress: [] },
    { pod: 'b', ip: '10.244.1.3', ingress: [], egress: [] },
  ],
};

test('port ranges: the fewest aligned prefixes; every port of a protocol: one prefix of no port bits', () => {
  assert.deepEqual(portPrefixes(80, 80), [{ port: 80, bits: 16 }]);
  assert.deepEqual(portPrefixes(8000, 8003), [{ port: 8000, bits: 14 }]);
  assert.deepEqual(portPrefixes(8001, 8004), [
    { port: 8001, bits: 16 },
    { port: 8002, bits: 15 },
    { port: 8004, bits: 16 },
  ]);
  assert.deepEqual(portPrefixes(1, 65535), [{ port: 0, bits: 0 }]);
  assert.equal(portPrefixes(1024, 65535).length, 6);
  const covered = (from: number, to: number): number =>
    portPrefixes(from, to).reduce((n, x) => n + 2 ** (16 - x.bits), 0);
  assert.equal(covered(1000, 2000), 1001);
});

test('identities: kept from the ipcache, WORLD for 0.0.0.0/0, new ones the lowest free from 256', () => {
  const prefixes = prefixesOf(input);
  assert.deepEqual(
    new Set(prefixes),
    new Set(
      ['0.0.0.0/0', '10.244.1.2/32', '10.244.1.3/32', '10.244.2.2/32', '10.244.0.0/16', '10.244.2.0/24'].map(key),
    ),
  );
  const first = allocateIdentities(prefixes, new Map());
  assert.equal(first.get(key('0.0.0.0/0')), 2);
  assert.deepEqual(
    [...first.values()].sort((x, y) => x - y),
    [2, 256, 257, 258, 259, 260],
  );
  // stable: the same allocation again, and a new prefix never takes an id the map still holds
  const again = allocateIdentities(prefixes, first);
  assert.deepEqual(again, first);
  const held = new Map([[key('10.9.0.0/16'), 256]]);
  assert.ok(![...allocateIdentities([key('10.1.0.0/16')], held).values()].includes(256));
});

test('blocks: the identities of every prefix inside the cidr and inside no except (pods included)', () => {
  const ids = allocateIdentities(prefixesOf(input), new Map());
  const id = (c: string): number => ids.get(key(c))!;
  assert.deepEqual(
    blockIdentities({ cidr: '10.244.0.0/16', except: ['10.244.2.0/24'] }, ids),
    [id('10.244.0.0/16'), id('10.244.1.2/32'), id('10.244.1.3/32')].sort((x, y) => x - y),
  );
  assert.ok(blockIdentities({ cidr: '0.0.0.0/0', except: [] }, ids).includes(2));
});

test('entries: policy_eps only for isolated endpoints; allows per identity and port prefix; a diff of both', () => {
  assert.deepEqual([...endpointEntries(input).keys()], [epKey('10.244.1.2')]);
  const ids = allocateIdentities(prefixesOf(input), new Map());
  const d = desired(input, new Map());
  const keys = [...d.policy.keys()].map(decodePolicyKey);
  assert.ok(keys.every((k) => k.endpoint === '10.244.1.2' && k.direction === 'ingress'));
  const b = ids.get(key('10.244.1.3/32'))!;
  assert.ok(
    d.policy.has(
      policyKey({ prefixlen: 94, endpoint: '10.244.1.2', identity: b, direction: 'ingress', protocol: 6, dport: 8000 }),
    ),
  );
  assert.ok(
    d.policy.has(
      policyKey({ prefixlen: 72, endpoint: '10.244.1.2', identity: b, direction: 'ingress', protocol: 0, dport: 0 }),
    ),
  );
  assert.ok(!keys.some((k) => k.identity === ids.get(key('10.244.2.2/32'))), 'c is in the except');
  assert.equal(keys.length, 1 + 3); // b's port prefix; the block's 3 identities with any port
  assert.deepEqual([...unhex(policyKey(keys[0]!))].length, 16);
  const gone = desired({ ...input, policies: [], endpoints: [] }, ids);
  const change = diff(d.policy, gone.policy);
  assert.deepEqual(change, { set: [], del: [...d.policy.keys()] });
});

test('plan: ipcache and allows in before an endpoint is isolated; out only after it is not', () => {
  const empty = { eps: new Map(), ipcache: new Map(), policy: new Map() };
  const want = desired(input, new Map());
  const on = plan(empty, want);
  const where = (steps: typeof on, map: string, op: string): number[] =>
    steps.flatMap((s, i) => (s.map === map && s.op === op ? [i] : []));
  assert.equal(on.length, want.eps.size + want.ipcache.size + want.policy.size);
  assert.ok(Math.max(...where(on, 'ipcache', 'set')) < Math.min(...where(on, 'policy', 'set')));
  assert.ok(Math.max(...where(on, 'policy', 'set')) < Math.min(...where(on, 'eps', 'set')));
  const off = plan(want, empty);
  assert.ok(Math.max(...where(off, 'eps', 'del')) < Math.min(...where(off, 'policy', 'del')));
  assert.ok(Math.max(...where(off, 'policy', 'del')) < Math.min(...where(off, 'ipcache', 'del')));
  assert.deepEqual(plan(want, want), [], 'nothing to write when nothing changed');
});
