import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCnilabError } from './errors';
import { readNetSysctls, writeNetSysctls } from './sysctl';

test('net sysctls: only keys under net/, never climbing out of /proc/sys/net', () => {
  for (const key of ['kernel/hostname', 'net/../kernel/hostname', 'net.ipv4.ip_forward', 'net/ipv4/x y'])
    assert.throws(
      () => writeNetSysctls(undefined, [[key, '1']]),
      (e) => isCnilabError(e, 'INVALID_INPUT'),
      key,
    );
  writeNetSysctls(undefined, []); // nothing to do, nothing touched
});

test('net sysctls: a key that does not exist reads as undefined', () => {
  assert.deepEqual(readNetSysctls(undefined, ['net/ipv4/conf/nosuch0/arp_notify']), [undefined]);
});
