import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IFLA, ifinfomsg, parseLink, strAttr, u32Attr } from './codec';
import { BIG_TCP_SIZE, bigTcpDiffers } from './big-tcp';

const link = (...attrs: Buffer[]): Buffer => Buffer.concat([ifinfomsg(7), strAttr(IFLA.IFNAME, 'lxc1'), ...attrs]);

test('parseLink reads the GSO/GRO sizes, IPv6 and IPv4, by their if_link.h numbers', () => {
  const b = link(
    u32Attr(41, 1),
    u32Attr(58, 2),
    u32Attr(63, 3),
    u32Attr(64, 4),
    u32Attr(59, 524280), // IFLA_TSO_MAX_SIZE: not one of them
  );
  const l = parseLink(b, 0, b.length);
  assert.deepEqual(
    [l.ifname, l.gso_max_size, l.gro_max_size, l.gso_ipv4_max_size, l.gro_ipv4_max_size],
    ['lxc1', 1, 2, 3, 4],
  );
});

test('bigTcpDiffers names each size short of BIG TCP, and a kernel that does not say one', () => {
  const all = link(...[41, 58, 63, 64].map((t) => u32Attr(t, BIG_TCP_SIZE)));
  assert.equal(bigTcpDiffers(parseLink(all, 0, all.length)), undefined);
  // a kernel before 6.3: no IPv4 sizes
  const old = link(u32Attr(41, BIG_TCP_SIZE), u32Attr(58, 65536));
  assert.equal(
    bigTcpDiffers(parseLink(old, 0, old.length)),
    'lxc1 has gro_max_size 65536, gso_ipv4_max_size unknown, gro_ipv4_max_size unknown; BIG TCP wants 196608',
  );
});
