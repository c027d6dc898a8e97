/**
 * The few libc calls cnilab makes through FFI (koffi): a TUN device and flannel's user-space UDP
 * data path need ioctl, poll, read/write and UDP sockets, which Node does not expose on raw fds.
 * Loaded on first use. Buffers are passed as pointers to their memory (no copy); callers keep them
 * referenced for as long as a call (also an async one) may use them.
 */
import { loadKoffi } from '../../lib/koffi';

export interface Libc {
  ioctl(fd: number, request: number, arg: Buffer): number;
  /** ioctl whose argument is a value, not a pointer (TUNSETOFFLOAD). */
  ioctlValue(fd: number, request: number, arg: number): number;
  poll(fds: Buffer, nfds: number, timeoutMs: number): number;
  pollAsync(fds: Buffer, nfds: number, timeoutMs: number, cb: (err: unknown, ready: number) => void): void;
  read(fd: number, buf: Buffer, len: number): number;
  write(fd: number, buf: Buffer, len: number): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrLen: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  close(fd: number): number;
  errno(): number;
  /**
   * The address of a Buffer's memory, for the pointers inside structures (iovec, msghdr). Node
   * never moves a Buffer's memory; the caller keeps the Buffer referenced while the kernel may use it.
   */
  addressOf(buf: Buffer): number;
  /**
   * The data-path calls with every pointer given as an address (see addressOf): no Buffer is
   * converted per call, which at tens of thousands of calls a second is measurable.
   */
  readonly raw: {
    read(fd: number, addr: number, len: number): number;
    sendmsg(fd: number, msgAddr: number, flags: number): number;
    recvmmsg(fd: number, msgsAddr: number, vlen: number, flags: number): number;
    writev(fd: number, iovAddr: number, count: number): number;
    poll(fdsAddr: number, nfds: number, timeoutMs: number): number;
  };
}

let libc: Libc | undefined;

export function loadLibc(): Libc {
  if (libc) return libc;
  const koffi = loadKoffi(); // only the udp backends load the FFI
  const lib = koffi.load('libc.so.6');
  const poll = lib.func('int poll(void *fds, unsigned long nfds, int timeout)');
  const num =
    (f: (...a: unknown[]) => unknown) =>
    (...a: unknown[]): number =>
      Number(f(...a));
  libc = {
    ioctl: num(lib.func('int ioctl(int fd, unsigned long request, void *arg)')),
    ioctlValue: num(lib.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long'])),
    poll: num(poll),
    pollAsync: (fds, nfds, timeoutMs, cb) =>
      poll.async(fds, nfds, timeoutMs, (err: unknown, r: number) => cb(err, Number(r))),
    read: num(lib.func('intptr_t read(int fd, void *buf, size_t len)')),
    write: num(lib.func('intptr_t write(int fd, const void *buf, size_t len)')),
    socket: num(lib.func('int socket(int domain, int type, int protocol)')),
    bind: num(lib.func('int bind(int fd, const void *addr, uint32_t len)')),
    sendto: num(
      lib.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)'),
    ),
    recv: num(lib.func('intptr_t recv(int fd, void *buf, size_t len, int flags)')),
    setsockopt: num(lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)')),
    close: num(lib.func('int close(int fd)')),
    errno: () => koffi.errno(),
    addressOf: (buf) => Number(koffi.address(buf)),
    raw: {
      read: num(lib.func('read', 'intptr_t', ['int', 'uintptr_t', 'size_t'])),
      sendmsg: num(lib.func('sendmsg', 'intptr_t', ['int', 'uintptr_t', 'int'])),
      recvmmsg: (
        (f) => (fd: number, addr: number, vlen: number, flags: number) =>
          Number(f(fd, addr, vlen, flags, 0))
      )(lib.func('recvmmsg', 'int', ['int', 'uintptr_t', 'uint', 'int', 'uintptr_t'])),
      writev: num(lib.func('writev', 'intptr_t', ['int', 'uintptr_t', 'int'])),
      poll: num(lib.func('poll', 'int', ['uintptr_t', 'unsigned long', 'int'])),
    },
  };
  return libc;
}

export const AF_INET = 2;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;
export const POLLIN = 0x1;
export const EAGAIN = 11;
export const EINTR = 4;
export const SOL_UDP = 17;
export const UDP_SEGMENT = 103;
export const UDP_GRO = 104;

/**
 * struct sockaddr_in for an IPv4 address and port, in a buffer of `size` bytes (more when it must stay off V8's
 * heap).
 */
export function sockaddrIn(ip: string, port: number, size = 16): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  ip.split('.').forEach((o, i) => b.writeUInt8(Number(o), 4 + i));
  return b;
}
