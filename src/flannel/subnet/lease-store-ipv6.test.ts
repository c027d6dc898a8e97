import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LeaseStore, networkProblem } from './lease-store';
import type { NetworkConfig } from './model';
import { leaseServiceArgs } from './service';

const V4: NetworkConfig = { network: '10.244.0.0/16', subnetLength: 24, backend: { type: 'vxlan' } };
const DUAL: NetworkConfig = { ...V4, enableIPv6: true, ipv6Network: 'fd00:10:244::/56', ipv6SubnetLength: 64 };
const V6: NetworkConfig = { ...DUAL, enableIPv4: false };

function open(t: { after: (f: () => void) => void }, config: NetworkConfig, file?: string): LeaseStore {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-leases6-'));
  const s = new LeaseStore(file ?? join(dir, 'l.db'), config);
  t.after(() => {
    try {
      s.close();
    } catch {
      /* closed by the test */
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return s;
}

const req = (node: string, n: number, data: Record<string, string> = {}) => ({
  node,
  publicIp: `198.18.0.${n}`,
  publicIpv6: `2001:2::${n}`,
  backendType: 'vxlan',
  backendData: { vtepMac: `aa:bb:cc:dd:ee:0${n}`, vtepMacV6: `aa:bb:cc:dd:ff:0${n}`, ...data },
});

test('dual-stack: each lease gets an IPv4 and an IPv6 subnet (never the first), renewals keep both', (t) => {
  const s = open(t, DUAL);
  const a = s.acquire(req('node1', 2));
  const b = s.acquire(req('node2', 3));
  assert.deepEqual(
    [a.subnet, a.ipv6Subnet, a.publicIpv6, b.subnet, b.ipv6Subnet],
    ['10.244.1.0/24', 'fd00:10:244:1::/64', '2001:2::2', '10.244.2.0/24', 'fd00:10:244:2::/64'],
  );
  const renewed = s.acquire(req('node1', 2));
  assert.deepEqual([renewed.subnet, renewed.ipv6Subnet], [a.subnet, a.ipv6Subnet]);
  assert.equal(s.index, 2, 'a renewal that changes nothing does not bump');
});

test('IPv6 only (EnableIPv4=false): leases carry no IPv4 subnet, and are listed in IPv6 order', (t) => {
  const s = open(t, V6);
  const { vtepMac: _, ...data } = req('node2', 3).backendData;
  s.acquire({ ...req('node2', 3), backendData: data });
  s.acquire({ ...req('node1', 2), backendData: { vtepMacV6: 'aa:bb:cc:dd:ff:02' } });
  const leases = s.snapshot().leases;
  assert.deepEqual(
    leases.map((l) => [l.node, l.subnet, l.ipv6Subnet]),
    [
      ['node2', undefined, 'fd00:10:244:1::/64'],
      ['node1', undefined, 'fd00:10:244:2::/64'],
    ],
  );
  assert.equal('subnet' in leases[0]!, false);
});

test('the IPv6 fields are validated, and a clash is a CONFLICT naming the field', (t) => {
  const s = open(t, DUAL);
  s.acquire(req('node1', 2));
  const { publicIpv6: _, ...noV6 } = req('node2', 3);
  assert.throws(() => s.acquire(noV6), { code: 'INVALID_INPUT', message: /^publicIpv6: is required/ });
  assert.throws(() => s.acquire({ ...req('node2', 3), publicIpv6: '198.18.0.9' }), /publicIpv6: .* not an IPv6/);
  assert.throws(() => s.acquire(req('node2', 3, { vtepMacV6: 'nope' })), /backendData\.vtepMacV6: "nope" is not a MAC/);
  const { vtepMacV6: _m, ...noMac6 } = req('node2', 3).backendData;
  assert.throws(() => s.acquire({ ...req('node2', 3), backendData: noMac6 }), /backendData\.vtepMacV6: is required/);
  // Another spelling of node1's address is the same address.
  assert.throws(() => s.acquire({ ...req('node2', 3), publicIpv6: '2001:0002:0:0::2' }), {
    code: 'CONFLICT',
    message: /^publicIpv6: 2001:2::2 is already leased to node node1/,
  });
  assert.throws(() => s.acquire(req('node2', 3, { vtepMacV6: 'aa:bb:cc:dd:ff:02' })), {
    code: 'CONFLICT',
    message: /^backendData\.vtepMacV6: aa:bb:cc:dd:ff:02 is node node1's VTEP/,
  });
  const v4 = open(t, V4);
  assert.throws(() => v4.acquire(req('node1', 2)), /publicIpv6: the network has IPv6 off/);
});

test('a store made before IPv6 gains its columns, keeps its leases, and refuses to become dual-stack', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-leases6-old-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'l.db');
  const old = new Database(file);
  old.exec(
    'CREATE TABLE leases (node TEXT PRIMARY KEY, subnet TEXT NOT NULL UNIQUE, public_ip TEXT NOT NULL UNIQUE, ' +
      'backend_type TEXT NOT NULL, backend_data TEXT NOT NULL, expires_at INTEGER NOT NULL, updated_at TEXT NOT NULL);' +
      'CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);' +
      `INSERT INTO meta VALUES ('config', '${JSON.stringify(V4)}'), ('index', '1');` +
      `INSERT INTO leases VALUES ('node1', '10.244.1.0/24', '198.18.0.2', 'vxlan', '{"vtepMac":"aa:bb:cc:dd:ee:02"}', ` +
      `${Date.now() + 3_600_000}, '2026-01-01T00:00:00.000Z');`,
  );
  old.close();
  assert.throws(
    () => new LeaseStore(file, DUAL),
    /holds leases of network 10\.244\.0\.0\/16\/24 \(vxlan\), not .*fd00/,
  );
  const s = open(t, V4, file);
  assert.deepEqual(
    s.snapshot().leases.map((l) => [l.node, l.subnet, l.ipv6Subnet]),
    [['node1', '10.244.1.0/24', undefined]],
  );
  const { publicIpv6: _, ...v4req } = req('node2', 3);
  const { vtepMacV6: _m, ...data } = v4req.backendData;
  assert.equal(s.acquire({ ...v4req, backendData: data }).subnet, '10.244.2.0/24');
});

test('networkProblem: a network needs a family on, a valid IPv6 network and a prefix that fits', () => {
  assert.equal(networkProblem(DUAL), undefined);
  assert.equal(networkProblem(V6), undefined);
  assert.match(networkProblem({ ...V4, enableIPv4: false })!, /^enableIPv4: a network needs IPv4 or IPv6 on/);
  assert.match(
    networkProblem({ ...DUAL, ipv6Network: '10.0.0.0/8' })!,
    /^ipv6Network: "10\.0\.0\.0\/8" is not an IPv6/,
  );
  assert.match(networkProblem({ ...DUAL, ipv6SubnetLength: 48 })!, /^ipv6SubnetLength: \/48 does not fit/);
  assert.throws(() => new LeaseStore('/nonexistent/never-opened.db', { ...DUAL, ipv6Network: undefined }), {
    code: 'INVALID_INPUT',
  });
});

test('the lease service flags: EnableIPv4/EnableIPv6 from the families asked for', () => {
  const base = ['--data', 'd', '--network', '10.244.0.0/16', '--subnet-length', '24', '--backend', 'host-gw'];
  assert.deepEqual(leaseServiceArgs('d', '10.244.0.0/16', 24, { type: 'host-gw' }), base);
  assert.deepEqual(
    leaseServiceArgs(
      'd',
      '10.244.0.0/16',
      24,
      { type: 'host-gw' },
      { ipv4: false, ipv6Network: 'fd00::/56', ipv6SubnetLength: 64 },
    ),
    [...base, '--no-ipv4', '--ipv6-network', 'fd00::/56', '--ipv6-subnet-length', '64'],
  );
});
