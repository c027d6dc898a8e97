import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeKey, parseDump, peerChanges, publicKeyOf } from './wireguard';

test('publicKeyOf agrees with wg pubkey', () => {
  // `wg genkey | tee /dev/stderr | wg pubkey`, wireguard-tools v1.0.20210914
  assert.equal(
    publicKeyOf('CLzQor9XnDs1zUgt9hPmVSkGTifGNrR7YwBTNd+JIkY='),
    'QqA0yQJIJCkQU51hr1dEcMSKgs03F20/fgn2mXrWg0M=',
  );
  assert.throws(() => publicKeyOf('c2hvcnQ='), /32 bytes/);
});

test('nodeKey makes a 0600 key once, keeps it, and refuses one others may read', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'wgkey-')), 'wireguard');
  try {
    const a = nodeKey(dir);
    assert.equal(statSync(a.file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(publicKeyOf(readFileSync(a.file, 'utf8')), a.publicKey);
    assert.deepEqual(nodeKey(dir), a, 'a second start keeps the key');
    chmodSync(a.file, 0o644);
    assert.throws(() => nodeKey(dir), /private\.key: mode 0644 lets others read .*chmod 600/);
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('peerChanges adds the new, updates the changed, removes the gone, and is silent when equal', () => {
  const a = { publicKey: 'A=', endpoint: '198.18.0.2:51820', allowedIps: ['10.244.1.0/24'] };
  const b = { publicKey: 'B=', endpoint: '198.18.0.3:51820', allowedIps: ['10.244.2.0/24'] };
  const c = { publicKey: 'C=', endpoint: '198.18.0.4:51820', allowedIps: ['10.244.3.0/24', '10.244.9.0/24'] };
  assert.deepEqual(peerChanges([a, b], [a, b]), []);
  assert.deepEqual(peerChanges([{ ...c, allowedIps: ['10.244.9.0/24', '10.244.3.0/24'] }], [c]), []);
  assert.deepEqual(peerChanges([a, b], [b, { ...c }]), [
    'peer',
    'A=',
    'remove',
    'peer',
    'C=',
    'endpoint',
    '198.18.0.4:51820',
    'allowed-ips',
    '10.244.3.0/24,10.244.9.0/24',
  ]);
  assert.deepEqual(peerChanges([b], [{ ...b, endpoint: '198.18.0.9:51820' }]).slice(0, 4), [
    'peer',
    'B=',
    'endpoint',
    '198.18.0.9:51820',
  ]);
});

test('parseDump skips the device line and reads each peer', () => {
  const dump =
    'PRIVATE=\tPUB=\t51820\toff\n' +
    'B=\t(none)\t198.18.0.3:51820\t10.244.2.0/24\t1765075083\t476\t532\toff\n' +
    'C=\t(none)\t(none)\t(none)\t0\t0\t0\toff\n';
  assert.deepEqual(parseDump(dump), [
    {
      publicKey: 'B=',
      endpoint: '198.18.0.3:51820',
      allowedIps: ['10.244.2.0/24'],
      latestHandshake: 1765075083,
      rxBytes: 476,
      txBytes: 532,
    },
    { publicKey: 'C=', endpoint: '', allowedIps: [], latestHandshake: 0, rxBytes: 0, txBytes: 0 },
  ]);
});
