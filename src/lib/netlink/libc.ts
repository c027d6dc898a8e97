/**
 * The five libc calls a netlink client needs (socket, setns, send, recv, close) — and syscall(), for
 * bpf(2), which libc does not wrap — through the FFI of
 * whichever runtime runs us: `bun:ffi` under Bun (the plugins' runtime: ~1 ms to bind), koffi under
 * Node (the CLI and the tests: ~7–30 ms to load, paid once). Node and Bun expose no AF_NETLINK
 * socket, and spawning `ip` costs ~8.5 ms a command; these calls cost microseconds.
 */
import { loadKoffi } from '../koffi';

export interface NetlinkLibc {
  readonly runtime: 'bun' | 'node';
  socket(domain: number, type: number, protocol: number): number;
  setns(fd: number, nstype: number): number;
  send(fd: number, buf: Uint8Array): number;
  /**
   * Never blocks: rtnetlink answers (and fills each part of a dump) within the call that asks, so
   * nothing queued means nothing is coming — an error, not a wait.
   */
  recv(fd: number, buf: Uint8Array): number;
  close(fd: number): number;
  /** errno of the last failed call. */
  errno(): number;
  /** `syscall(nr, a, b, c)`, for the calls libc has no wrapper for (bpf). */
  syscall3(nr: number, a: number, b: NativeBytes, c: number): number;
  /** Memory whose address can be written into a structure a system call reads (bpf's attributes). */
  alloc(size: number): NativeBytes;
}

/** Bytes at a fixed native address: `bytes` reads and writes them. */
export interface NativeBytes {
  readonly address: bigint;
  readonly bytes: Uint8Array;
  free(): void;
}

interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...a: unknown[]) => number | bigint | unknown> };
  read: { i32(ptr: unknown, offset: number): number };
  ptr(view: Uint8Array): number;
}

const MSG_DONTWAIT = 0x40;

let loaded: NetlinkLibc | undefined;

function bunLibc(): NetlinkLibc {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only under Bun, where the module exists
  const ffi = require('bun:ffi') as BunFfi;
  const { symbols: s } = ffi.dlopen('libc.so.6', {
    socket: { args: ['i32', 'i32', 'i32'], returns: 'i32' },
    setns: { args: ['i32', 'i32'], returns: 'i32' },
    send: { args: ['i32', 'ptr', 'u64', 'i32'], returns: 'i64' },
    recv: { args: ['i32', 'ptr', 'u64', 'i32'], returns: 'i64' },
    close: { args: ['i32'], returns: 'i32' },
    syscall: { args: ['i64', 'i64', 'ptr', 'i64'], returns: 'i64' },
    __errno_location: { args: [], returns: 'ptr' },
  });
  return {
    runtime: 'bun',
    socket: (d, t, p) => Number(s.socket!(d, t, p)),
    setns: (fd, t) => Number(s.setns!(fd, t)),
    send: (fd, buf) => Number(s.send!(fd, buf, buf.byteLength, 0)),
    recv: (fd, buf) => Number(s.recv!(fd, buf, buf.byteLength, MSG_DONTWAIT)),
    close: (fd) => Number(s.close!(fd)),
    errno: () => ffi.read.i32(s.__errno_location!(), 0),
    syscall3: (nr, a, b, c) => Number(s.syscall!(nr, a, b.bytes, c)),
    alloc: (size) => {
      // a typed array does not move while referenced; the caller keeps it until the call returns
      const bytes = new Uint8Array(size);
      return { address: BigInt(ffi.ptr(bytes)), bytes, free: () => undefined };
    },
  };
}

function nodeLibc(): NetlinkLibc {
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const setns = lib.func('int setns(int fd, int nstype)');
  const send = lib.func('intptr_t send(int fd, const void *buf, size_t len, int flags)');
  const recv = lib.func('intptr_t recv(int fd, void *buf, size_t len, int flags)');
  const close = lib.func('int close(int fd)');
  // x86-64 passes a variadic call's integer arguments as a fixed one's; glibc's syscall() is assembly
  const syscall = lib.func('long syscall(long nr, long a, void *b, long c)');
  return {
    runtime: 'node',
    socket: (d, t, p) => Number(socket(d, t, p)),
    setns: (fd, t) => Number(setns(fd, t)),
    send: (fd, buf) => Number(send(fd, buf, buf.byteLength, 0)),
    recv: (fd, buf) => Number(recv(fd, buf, buf.byteLength, MSG_DONTWAIT)),
    close: (fd) => Number(close(fd)),
    errno: () => koffi.errno(),
    syscall3: (nr, a, b, c) => Number(syscall(nr, a, b.bytes, c)),
    alloc: (size) => {
      const p = koffi.alloc('uint8_t', size);
      const bytes = new Uint8Array(koffi.view(p, size));
      bytes.fill(0);
      return { address: BigInt(koffi.address(p)), bytes, free: () => koffi.free(p) };
    },
  };
}

export function netlinkLibc(): NetlinkLibc {
  loaded ??= process.versions.bun ? bunLibc() : nodeLibc();
  return loaded;
}
