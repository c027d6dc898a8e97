import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32, hashName } from './hash';

test('base32 is RFC 4648 base32 without padding', () => {
  assert.equal(base32(Buffer.from('foobar')), 'MZXW6YTBOI');
  assert.equal(base32(Buffer.from('f')), 'MY');
});

test("the chain hashes are kube-proxy's (its tests' ns1/svc1:p80 on 10.180.0.1:80)", () => {
  assert.equal(hashName('ns1/svc1:p80tcp', 16), 'XPGD46QRK7WJZT7O'); // KUBE-SVC-
  assert.equal(hashName('ns1/svc1:p80tcp10.180.0.1:80', 16), 'SXIVWICOYRO3J4NJ'); // KUBE-SEP-
  assert.equal(hashName('ns1/svc1/tcp/p80', 8), 'ULMVA6XW'); // nftables service-
  assert.equal(hashName('ns1/svc1/tcp/p80__10.180.0.1/80', 8), '5OJB2KTY'); // nftables endpoint-
});
