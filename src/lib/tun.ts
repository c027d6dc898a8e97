/**
 * Opening a TUN device: /dev/net/tun plus ioctl(TUNSETIFF) through FFI, no helper program.
 * The returned fd is non-blocking; one read() is one packet.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { CnilabError } from './errors';
import { loadLibc } from './libc';

const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFNAMSIZ = 16;

/** Creates (or attaches to) TUN device `name` without packet information; returns its fd. */
export function openTun(name: string): number {
  if (Buffer.byteLength(name) >= IFNAMSIZ) throw new CnilabError('INVALID_INPUT', `TUN name ${JSON.stringify(name)} is longer than ${IFNAMSIZ - 1} bytes`);
  const fd = openSync('/dev/net/tun', constants.O_RDWR | constants.O_NONBLOCK);
  const ifr = Buffer.alloc(40); // struct ifreq: char ifr_name[16]; short ifr_flags; padding
  ifr.write(name, 0, 'ascii');
  ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI, IFNAMSIZ);
  const libc = loadLibc();
  if (libc.ioctl(fd, TUNSETIFF, ifr) < 0) {
    const errno = libc.errno();
    closeSync(fd);
    throw new CnilabError('FEATURE_MISSING', `ioctl(TUNSETIFF, ${name}) failed (errno ${errno}): the kernel refused to create the TUN device`);
  }
  return fd;
}
