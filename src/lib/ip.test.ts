import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressAt,
  contains,
  formatAddr,
  formatCidr,
  formatPrefix,
  formatIPv4,
  lastOf,
  overlaps,
  parseAddr,
  parseCidr,
  parseIPv4,
  parsePrefix,
  subnetAt,
} from './ip';

test('IPv6 is read in any form and written canonically (RFC 5952), as Go writes it', () => {
  const cases: [string, string][] = [
    ['fd00::2', 'fd00::2'],
    ['FD00:0:0:0:0:0:0:2', 'fd00::2'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['::ffff:10.1.2.3', '::ffff:a01:203'],
  ];
  for (const [input, out] of cases) assert.equal(formatAddr(parseAddr(input)!), out, input);
  assert.equal(formatAddr(parseAddr('10.1.2.3')!), '10.1.2.3');
  for (const bad of ['1.2.3', 'fd00:::1', 'g::1', '10.1.2.300', 'fe80::1%eth0', ''])
    assert.equal(parseAddr(bad), undefined, bad);
});

test('prefixes of both families: network, last address, membership', () => {
  const p6 = parsePrefix('fd00:1::5/64')!;
  assert.equal(formatAddr({ family: 6, value: p6.base }), 'fd00:1::');
  assert.equal(formatAddr({ family: 6, value: lastOf(p6) }), 'fd00:1::ffff:ffff:ffff:ffff');
  assert.ok(contains(p6, parseAddr('fd00:1::abcd')!));
  assert.ok(!contains(p6, parseAddr('fd00:2::1')!));
  assert.ok(!contains(p6, parseAddr('10.0.0.1')!), 'another family');
  const p4 = parsePrefix('10.1.2.3/24')!;
  assert.equal(formatAddr({ family: 4, value: lastOf(p4) }), '10.1.2.255');
  for (const bad of ['10.0.0.0/33', 'fd00::/129', 'fd00::', 'x/8']) assert.equal(parsePrefix(bad), undefined, bad);
});

test('IPv4 round-trips and rejects malformed addresses', () => {
  assert.equal(formatIPv4(parseIPv4('198.18.0.255')), '198.18.0.255');
  assert.equal(parseIPv4('255.255.255.255'), 2 ** 32 - 1);
  for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '', '01.2.3.4444'])
    assert.throws(() => parseIPv4(bad), /not an IPv4 address/);
});

test('CIDR parsing, strictness, overlap and subnetting', () => {
  assert.equal(formatCidr(parseCidr('10.244.3.7/16')), '10.244.0.0/16');
  assert.throws(() => parseCidr('10.244.3.7/16', true), /host bits set; did you mean 10.244.0.0\/16/);
  assert.throws(() => parseCidr('10.0.0.0/33'), /not an IPv4 CIDR/);
  assert.equal(overlaps(parseCidr('198.18.0.0/15'), parseCidr('198.19.4.0/24')), true);
  assert.equal(overlaps(parseCidr('10.244.0.0/16'), parseCidr('10.245.0.0/16')), false);
  assert.equal(formatCidr(subnetAt(parseCidr('10.244.0.0/16'), 24, 3)), '10.244.3.0/24');
  assert.throws(() => subnetAt(parseCidr('10.244.0.0/16'), 24, 256), /holds 256 \/24 subnets/);
  assert.equal(formatIPv4(addressAt(parseCidr('198.18.0.0/24'), 1)), '198.18.0.1');
});

test('formatPrefix: the network and its length, either family', () => {
  assert.equal(formatPrefix(parsePrefix('fd00:1::5/64')!), 'fd00:1::/64');
  assert.equal(formatPrefix(parsePrefix('10.1.2.3/24')!), '10.1.2.0/24');
  assert.equal(formatPrefix(parsePrefix('fd00::1/128')!), 'fd00::1/128');
});
