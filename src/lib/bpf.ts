/**
 * The bpf(2) calls cnilab makes on pinned objects: open a pinned map or program, and read, write,
 * delete and walk a map's entries. The eBPF plugin, agent and probe call it in-process (bpftool
 * would be a process start, ~10 ms, per call); loading and pinning programs is bpftool's job
 * (src/ebpf/load.ts).
 */
import { closeSync } from 'node:fs';
import { CnilabError } from './errors';
import { netlinkLibc, type NativeBytes } from './netlink/libc';

const SYS_BPF = 321; // x86-64
const BPF = {
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  MAP_GET_NEXT_KEY: 4,
  OBJ_PIN: 6,
  OBJ_GET: 7,
  OBJ_GET_INFO_BY_FD: 15,
  LINK_CREATE: 28,
  MAP_UPDATE_BATCH: 26,
  MAP_DELETE_BATCH: 27,
} as const;
export const BPF_ANY = 0;
const ENOENT = 2;
const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  7: 'E2BIG',
  9: 'EBADF',
  12: 'ENOMEM',
  13: 'EACCES',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  95: 'EOPNOTSUPP',
};

export class BpfError extends CnilabError {
  constructor(
    what: string,
    readonly errno: number,
  ) {
    super('KERNEL_FAILED', `bpf ${what}: ${ERRNO_NAMES[errno] ?? `errno ${errno}`}`);
  }
}

/** Runs one bpf command with the attributes `fill` writes (addresses of memory the caller holds). */
function bpf(cmd: number, what: string, fill: (attr: DataView) => void, size: number): number {
  const libc = netlinkLibc();
  const attr = libc.alloc(size);
  try {
    fill(new DataView(attr.bytes.buffer, attr.bytes.byteOffset, size));
    const r = libc.syscall3(SYS_BPF, cmd, attr, size);
    if (r < 0) throw new BpfError(what, libc.errno());
    return r;
  } finally {
    attr.free();
  }
}

/** Copies `data` into native memory (freed by the caller). */
function native(data: Uint8Array | number): NativeBytes {
  const n = netlinkLibc().alloc(typeof data === 'number' ? data : data.length);
  if (typeof data !== 'number') n.bytes.set(data);
  return n;
}

/** A pinned map or program, opened (BPF_OBJ_GET); NOT_FOUND when nothing is pinned there. */
export function objGet(path: string): number {
  const name = native(Buffer.from(`${path}\0`));
  try {
    return bpf(
      BPF.OBJ_GET,
      `open ${path}`,
      (a) => {
        a.setBigUint64(0, name.address, true);
      },
      16,
    );
  } catch (e) {
    if (e instanceof BpfError && e.errno === ENOENT) throw new CnilabError('NOT_FOUND', `nothing is pinned at ${path}`);
    throw e;
  } finally {
    name.free();
  }
}

/** Pins the object open as `fd` (a program, map or link) at `path` in a bpffs (BPF_OBJ_PIN). */
export function objPin(fd: number, path: string): void {
  const name = native(Buffer.from(`${path}\0`));
  try {
    bpf(
      BPF.OBJ_PIN,
      `pin ${path}`,
      (a) => {
        a.setBigUint64(0, name.address, true);
        a.setUint32(8, fd, true);
      },
      16,
    );
  } finally {
    name.free();
  }
}

/**
 * The attach types of a netkit device's two programs (enum bpf_attach_type, Linux 6.7): the
 * primary's runs when the node sends through the primary (to the pod), the peer's when the pod
 * sends through its end. Both are attached through the primary, the only end that may manage them.
 */
export const BPF_NETKIT_PRIMARY = 54;
export const BPF_NETKIT_PEER = 55;

/**
 * Attaches the program open as `progFd` to device `ifindex` at `attachType` as a BPF link
 * (BPF_LINK_CREATE): the attachment lasts as long as the returned link is open or pinned.
 */
export function linkCreate(progFd: number, ifindex: number, attachType: number, what: string): number {
  return bpf(
    BPF.LINK_CREATE,
    what,
    (a) => {
      a.setUint32(0, progFd, true);
      a.setUint32(4, ifindex, true);
      a.setUint32(8, attachType, true);
      // flags, relative_fd and expected_revision stay 0: appended after any attached program
    },
    32,
  );
}

/** What the kernel says of an open program or link (BPF_OBJ_GET_INFO_BY_FD), as raw bytes. */
function objInfo(fd: number, size: number, what: string): DataView {
  const info = native(size);
  try {
    info.bytes.fill(0);
    bpf(
      BPF.OBJ_GET_INFO_BY_FD,
      what,
      (a) => {
        a.setUint32(0, fd, true);
        a.setUint32(4, size, true);
        a.setBigUint64(8, info.address, true);
      },
      16,
    );
    const copy = Uint8Array.from(info.bytes);
    return new DataView(copy.buffer);
  } finally {
    info.free();
  }
}

/** A program's kernel ID (struct bpf_prog_info: type, id). */
export function progId(fd: number): number {
  return objInfo(fd, 8, 'program info').getUint32(4, true);
}

/**
 * A netkit link's program and device (struct bpf_link_info: type, id, prog_id, then the netkit
 * member: ifindex, attach_type). The device is the end the program runs for — the peer's, in its
 * own namespace, for BPF_NETKIT_PEER; a link whose pair is gone reads ifindex 0.
 */
export function netkitLinkInfo(fd: number): { progId: number; ifindex: number; attachType: number } {
  const v = objInfo(fd, 24, 'link info');
  return { progId: v.getUint32(8, true), ifindex: v.getUint32(16, true), attachType: v.getUint32(20, true) };
}

/** The map_fd, key, value/next_key, flags layout every element command shares. */
function elem(
  cmd: number,
  what: string,
  fd: number,
  key: NativeBytes | undefined,
  value: NativeBytes | undefined,
  flags = 0,
): void {
  bpf(
    cmd,
    what,
    (a) => {
      a.setUint32(0, fd, true);
      a.setBigUint64(8, key?.address ?? 0n, true);
      a.setBigUint64(16, value?.address ?? 0n, true);
      a.setBigUint64(24, BigInt(flags), true);
    },
    32,
  );
}

/** An open map: its entries as bytes, by key. */
export class BpfMap {
  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  static open(path: string): BpfMap {
    return new BpfMap(path, objGet(path));
  }

  /** Runs `fn` with the map at `path` open. */
  static with<T>(path: string, fn: (m: BpfMap) => T): T {
    const m = BpfMap.open(path);
    try {
      return fn(m);
    } finally {
      m.close();
    }
  }

  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    const k = native(key);
    const v = native(value);
    try {
      elem(BPF.MAP_UPDATE_ELEM, `update ${this.path}`, this.fd, k, v, flags);
    } finally {
      k.free();
      v.free();
    }
  }

  /**
   * Writes `count` entries in one call (BPF_MAP_UPDATE_BATCH, Linux 5.6): `keys` and `values` each
   * laid end to end. Where it fails part-way, the entries before the one that failed are written.
   */
  updateBatch(keys: Uint8Array, values: Uint8Array, count: number): void {
    this.batch(BPF.MAP_UPDATE_BATCH, `update ${count} entries of ${this.path}`, keys, values, count);
  }

  /**
   * Deletes `count` keys, laid end to end, in one call (BPF_MAP_DELETE_BATCH); where one is not
   * there (the call stops at it: ENOENT), every key is deleted one by one instead.
   */
  deleteBatch(keys: Uint8Array, count: number): void {
    try {
      this.batch(BPF.MAP_DELETE_BATCH, `delete ${count} entries of ${this.path}`, keys, undefined, count);
    } catch (e) {
      if (!(e instanceof BpfError && e.errno === ENOENT)) throw e;
      const size = keys.length / count;
      for (let i = 0; i < count; i++) this.delete(keys.subarray(i * size, (i + 1) * size));
    }
  }

  private batch(cmd: number, what: string, keys: Uint8Array, values: Uint8Array | undefined, count: number): void {
    if (count === 0) return;
    const k = native(keys);
    const v = values && native(values);
    try {
      bpf(
        cmd,
        what,
        (a) => {
          a.setBigUint64(16, k.address, true);
          a.setBigUint64(24, v?.address ?? 0n, true);
          a.setUint32(32, count, true);
          a.setUint32(36, this.fd, true);
        },
        56,
      );
    } finally {
      k.free();
      v?.free();
    }
  }

  /** Whether there was an entry to delete. */
  delete(key: Uint8Array): boolean {
    const k = native(key);
    try {
      elem(BPF.MAP_DELETE_ELEM, `delete from ${this.path}`, this.fd, k, undefined);
      return true;
    } catch (e) {
      if (e instanceof BpfError && e.errno === ENOENT) return false;
      throw e;
    } finally {
      k.free();
    }
  }

  /** The value (for a per-CPU map: every CPU's, one after the other), or undefined. */
  lookup(key: Uint8Array, valueSize: number): Uint8Array | undefined {
    const k = native(key);
    const v = native(valueSize);
    try {
      elem(BPF.MAP_LOOKUP_ELEM, `lookup in ${this.path}`, this.fd, k, v);
      return Uint8Array.from(v.bytes);
    } catch (e) {
      if (e instanceof BpfError && e.errno === ENOENT) return undefined;
      throw e;
    } finally {
      k.free();
      v.free();
    }
  }

  /** Every key, in the map's order. */
  keys(keySize: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let prev: NativeBytes | undefined;
    const next = native(keySize);
    try {
      for (;;) {
        try {
          elem(BPF.MAP_GET_NEXT_KEY, `walk ${this.path}`, this.fd, prev, next);
        } catch (e) {
          if (e instanceof BpfError && e.errno === ENOENT) return out;
          throw e;
        }
        out.push(Uint8Array.from(next.bytes));
        prev ??= native(keySize);
        prev.bytes.set(next.bytes);
      }
    } finally {
      next.free();
      prev?.free();
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** How many CPUs a per-CPU map holds a value for (/sys/devices/system/cpu/possible, e.g. "0-1"). */
export function possibleCpus(text: string): number {
  let n = 0;
  for (const part of text.trim().split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    n += (b ?? a) - a + 1;
  }
  return n;
}

/**
 * The one line that says why bpftool could not load the object: the verifier's last complaint
 * with the program it was about, else libbpf's or bpftool's own error.
 */
export function verifierReason(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  const failed = lines.map((l) => /^libbpf: prog '([^']+)': BPF program load failed: (.*)$/.exec(l)).find(Boolean);
  const begin = lines.findIndex((l) => l.includes('-- BEGIN PROG LOAD LOG --'));
  const end = lines.findIndex((l, i) => i > begin && l.includes('-- END PROG LOAD LOG --'));
  if (begin >= 0 && end > begin) {
    const log = lines
      .slice(begin + 1, end)
      .filter((l) => l && !/^processed \d+ insns/.test(l) && !/^verification time/.test(l));
    const last = log[log.length - 1];
    if (last) return `the verifier rejected ${failed ? `program ${failed[1]}` : 'a program'}: ${last}`;
  }
  if (failed) return `program ${failed[1]} did not load: ${failed[2]}`;
  const other =
    lines.find((l) => /^libbpf: .*(failed|error|unknown|not supported|invalid)/i.test(l)) ??
    lines.find((l) => /^Error: /.test(l)) ??
    lines.find(Boolean);
  return other ? other.replace(/^(libbpf|Error): /, '') : 'bpftool failed without saying why';
}
