/**
 * Opening a TUN device: /dev/net/tun plus ioctl(TUNSETIFF) through FFI, no helper program.
 * The returned fd is non-blocking; one read() is one packet.
 *
 * With `vnetHdr`, every packet is preceded by a struct virtio_net_hdr (10 bytes) saying whether it
 * is a super-packet (gso_type, gso_size) and whether its checksum is left to do (NEEDS_CSUM);
 * `offloads` (TUNSETOFFLOAD) then tells the kernel it may hand this reader such packets: with TSO
 * one read returns up to 64 KB of one TCP flow instead of one MTU-sized packet.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { CnilabError } from '../../lib/errors';
import { loadLibc } from './libc';

const TUNSETIFF = 0x400454ca;
const TUNSETOFFLOAD = 0x400454d0;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;
const IFNAMSIZ = 16;

/** TUNSETOFFLOAD flags. */
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;

export interface TunOptions {
  /** Prefix each packet with a virtio-net header. Default: false. */
  readonly vnetHdr?: boolean;
  /** TUN_F_* flags the reader accepts (needs vnetHdr). Default: none. */
  readonly offloads?: number;
}

/** Creates (or attaches to) TUN device `name` without packet information; returns its fd. */
export function openTun(name: string, opts: TunOptions = {}): number {
  if (Buffer.byteLength(name) >= IFNAMSIZ)
    throw new CnilabError('INVALID_INPUT', `TUN name ${JSON.stringify(name)} is longer than ${IFNAMSIZ - 1} bytes`);
  const fd = openSync('/dev/net/tun', constants.O_RDWR | constants.O_NONBLOCK);
  const ifr = Buffer.alloc(40); // struct ifreq: char ifr_name[16]; short ifr_flags; padding
  ifr.write(name, 0, 'ascii');
  ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI | (opts.vnetHdr ? IFF_VNET_HDR : 0), IFNAMSIZ);
  const libc = loadLibc();
  if (libc.ioctl(fd, TUNSETIFF, ifr) < 0) {
    const errno = libc.errno();
    closeSync(fd);
    throw new CnilabError(
      'FEATURE_MISSING',
      `ioctl(TUNSETIFF, ${name}) failed (errno ${errno}): the kernel refused to create the TUN device`,
    );
  }
  if (opts.offloads && libc.ioctlValue(fd, TUNSETOFFLOAD, opts.offloads) < 0) {
    const errno = libc.errno();
    closeSync(fd);
    throw new CnilabError(
      'FEATURE_MISSING',
      `ioctl(TUNSETOFFLOAD, ${name}) failed (errno ${errno}): this kernel's TUN does not take offloads`,
    );
  }
  return fd;
}
