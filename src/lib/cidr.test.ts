import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressAt, formatCidr, formatIPv4, overlaps, parseCidr, parseIPv4, subnetAt } from './cidr';

test('IPv4 round-trips and rejects malformed addresses', () => {
  assert.equal(formatIPv4(parseIPv4('198.18.0.255')), '198.18.0.255');
  assert.equal(parseIPv4('255.255.255.255'), 2 ** 32 - 1);
  for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '', '01.2.3.4444']) assert.throws(() => parseIPv4(bad), /not an IPv4 address/);
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
