/**
 * A small rtnetlink client: links, addresses and routes in one namespace, over one NETLINK_ROUTE
 * socket; requests are queued and sent together, each acknowledged (a round trip costs microseconds). The socket
 * is opened inside the target namespace (setns there, socket(), setns back), so the process itself
 * never stays anywhere but where it started. The messages are in codec.ts.
 *
 * Errors are `KERNEL_FAILED` with the errno's name and text ("link add cni0: File exists (EEXIST)").
 */
import { closeSync } from 'node:fs';
import { CnilabError } from '../errors';
import type { NetnsRef } from '../netns';
import { netlinkLibc, type NetlinkLibc } from './libc';
import { withinNetns } from './setns';
import {
  align,
  IFA_F_DADFAILED,
  IFA_F_TENTATIVE,
  ifaddrmsg,
  IFLA,
  ifinfomsg,
  NLM_F,
  NLMSG_DONE,
  NLMSG_ERROR,
  parseAddrMsg,
  parseLink,
  RTM,
  SIZE_ATTRS,
  strAttr,
  u32Attr,
  type NlLink,
  type SizeName,
} from './codec';

export * from './codec';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;

const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  34: 'ERANGE',
  95: 'EOPNOTSUPP',
  99: 'EADDRNOTAVAIL',
  101: 'ENETUNREACH',
};
const ERRTEXT: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  13: 'Permission denied',
  16: 'Device or resource busy',
  17: 'File exists',
  19: 'No such device',
  22: 'Invalid argument',
  34: 'Numerical result out of range',
  95: 'Operation not supported',
  99: 'Cannot assign requested address',
  101: 'Network is unreachable',
};

/** A failed netlink request; `errno` is the kernel's answer. */
export class NetlinkError extends CnilabError {
  readonly errno: number;
  constructor(what: string, errno: number) {
    super('KERNEL_FAILED', `${what}: ${ERRTEXT[errno] ?? 'error'} (${ERRNO[errno] ?? `errno ${errno}`})`);
    this.errno = errno;
  }
}
export const EEXIST = 17;
export const ENODEV = 19;
export const ENOENT = 2;
export const ESRCH = 3;
export const EADDRNOTAVAIL = 99;

/** One NETLINK_ROUTE socket in one namespace. */
export class Rtnl {
  private seq = 1;
  private readonly buf = Buffer.alloc(1 << 16);

  private constructor(
    private readonly libc: NetlinkLibc,
    private readonly fd: number,
  ) {}

  /** A socket in `ns` (a named namespace or a process's), or in this process's own. */
  static open(ns?: NetnsRef): Rtnl {
    const libc = netlinkLibc();
    return new Rtnl(libc, ns ? withinNetns(ns, () => Rtnl.socket(libc)) : Rtnl.socket(libc));
  }

  private static socket(libc: NetlinkLibc): number {
    const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw new NetlinkError('netlink socket', libc.errno());
    return fd;
  }

  close(): void {
    this.closeHeld();
    this.libc.close(this.fd);
  }

  /** Files a queued request refers to (a namespace's fd): open until it has been sent. */
  private held: number[] = [];
  hold(fd: number): number {
    this.held.push(fd);
    return fd;
  }
  private closeHeld(): void {
    for (const fd of this.held.splice(0)) closeSync(fd);
  }

  private message(type: number, flags: number, body: Buffer[]): { seq: number; msg: Buffer } {
    const payload = Buffer.concat(body);
    const h = Buffer.alloc(16);
    const seq = this.seq++;
    h.writeUInt32LE(16 + payload.length, 0);
    h.writeUInt16LE(type, 4);
    h.writeUInt16LE(flags | NLM_F.REQUEST, 6);
    h.writeUInt32LE(seq, 8);
    return { seq, msg: Buffer.concat([h, payload]) };
  }

  private sendAll(msgs: readonly Buffer[]): void {
    const all = msgs.length === 1 ? msgs[0]! : Buffer.concat(msgs);
    if (this.libc.send(this.fd, all) !== all.length) throw new NetlinkError('netlink send', this.libc.errno());
  }

  private send(type: number, flags: number, body: Buffer[]): number {
    this.flush();
    const { seq, msg } = this.message(type, flags, body);
    this.sendAll([msg]);
    return seq;
  }

  /**
   * Reads answers until the ack of `seq` (or its dump's end); data messages of `seq` go to `onMsg`.
   * The acks of earlier requests sent with it are checked on the way: the first error is thrown.
   */
  private receive(seq: number, what: string, onMsg?: (type: number, off: number, end: number) => void): void {
    let failed: NetlinkError | undefined;
    for (;;) {
      const n = this.libc.recv(this.fd, this.buf);
      if (n < 0) throw failed ?? new NetlinkError(`${what}: netlink recv`, this.libc.errno());
      let off = 0;
      while (off + 16 <= n) {
        const len = this.buf.readUInt32LE(off);
        const type = this.buf.readUInt16LE(off + 4);
        const mseq = this.buf.readUInt32LE(off + 8);
        if (len < 16) break;
        if (type === NLMSG_ERROR) {
          const err = -this.buf.readInt32LE(off + 16);
          const pending = this.inFlight.get(mseq) ?? what;
          this.inFlight.delete(mseq);
          if (err !== 0) failed ??= new NetlinkError(pending, err);
          if (mseq === seq) {
            if (failed) throw failed;
            return;
          }
        } else if (mseq === seq) {
          if (type === NLMSG_DONE) {
            if (failed) throw failed;
            return;
          }
          onMsg?.(type, off + 16, off + len);
        }
        off += align(len);
      }
    }
  }

  /** Indexes of the links read since the last flush: a queued request can name a link without a read between. */
  private readonly indexes = new Map<string, number>();
  /** Requests queued by `queue`, by sequence number: what each does, for its error. */
  private readonly inFlight = new Map<number, string>();
  private queued: { seq: number; msg: Buffer }[] = [];

  /**
   * Queues a request that changes something; `flush` (or any read) sends every queued request in
   * one send(). The kernel runs all the requests of one send within that call, so a process killed
   * (SIGKILL) around it has done all of them or none — as an `ip -batch` that outlives its caller.
   * Requests after a failing one still run; the first error is thrown by `flush`.
   */
  queue(type: number, flags: number, body: Buffer[], what: string): void {
    const m = this.message(type, flags | NLM_F.ACK, body);
    this.inFlight.set(m.seq, what);
    this.queued.push(m);
  }

  /** Sends what is queued and checks every ack. */
  flush(): void {
    if (this.queued.length === 0) return;
    const q = this.queued;
    this.queued = [];
    this.indexes.clear();
    try {
      this.sendAll(q.map((m) => m.msg));
      this.receive(q[q.length - 1]!.seq, 'netlink');
    } finally {
      this.closeHeld();
    }
  }

  /** A request that changes something, sent now and acknowledged. */
  request(type: number, flags: number, body: Buffer[], what: string): void {
    this.queue(type, flags, body, what);
    this.flush();
  }

  /** A dump request: each answer's message (past its netlink header) goes to `onMsg`. */
  dump(type: number, body: Buffer[], what: string, onMsg: (b: Buffer, off: number, end: number) => void): void {
    this.receive(this.send(type, NLM_F.DUMP, body), what, (_t, off, end) => onMsg(this.buf, off, end));
  }

  /** A link by name or index, with its master's name and (with `addrs`) its addresses; undefined if none. */
  link(name: string | number, opts: { addrs?: boolean } = {}): NlLink | undefined {
    let found: NlLink | undefined;
    const body = typeof name === 'number' ? [ifinfomsg(name)] : [ifinfomsg(0), strAttr(IFLA.IFNAME, name)];
    try {
      // with an ack after the answer, so the reading ends there
      this.receive(this.send(RTM.GETLINK, NLM_F.ACK, body), `link show ${name}`, (t, off, end) => {
        if (t === RTM.NEWLINK) found = parseLink(this.buf, off, end);
      });
    } catch (e) {
      if (e instanceof NetlinkError && (e.errno === ENODEV || e.errno === EINVAL_NAME)) return undefined;
      throw e;
    }
    if (!found) return undefined;
    this.indexes.set(found.ifname, found.ifindex);
    if (found.masterIndex) found.master = this.link(found.masterIndex)?.ifname;
    if (opts.addrs) found.addr_info = this.addrs(found.ifindex);
    return found;
  }

  /** Every link here. */
  links(): NlLink[] {
    const out: NlLink[] = [];
    this.dump(RTM.GETLINK, [ifinfomsg(0)], 'link show', (b, off, end) => out.push(parseLink(b, off, end)));
    const names = new Map(out.map((l) => [l.ifindex, l.ifname]));
    for (const l of out) if (l.masterIndex) l.master = names.get(l.masterIndex);
    return out;
  }

  /** The addresses on a link, as `ip -j addr show` lists them (`tentative`, `dadfailed` only when set). */
  addrs(index: number): { family: string; local: string; prefixlen: number; tentative?: true; dadfailed?: true }[] {
    const out: { family: string; local: string; prefixlen: number; tentative?: true; dadfailed?: true }[] = [];
    this.dump(RTM.GETADDR, [ifaddrmsg(0, 0, 0)], 'addr show', (b, off, end) => {
      const a = parseAddrMsg(b, off, end);
      if (a && a.index === index)
        out.push({
          family: a.family,
          local: a.local,
          prefixlen: a.prefixlen,
          ...(a.flags & IFA_F_TENTATIVE ? { tentative: true as const } : {}),
          ...(a.flags & IFA_F_DADFAILED ? { dadfailed: true as const } : {}),
        });
    });
    return out;
  }

  /**
   * Queues setting GSO/GRO maximum sizes of the link at `index` (RTM_NEWLINK on it, as `ip link set dev … gso_max_size`
   * does, and for the IPv4 sizes, which iproute2 before 6.3 cannot set); `dev` names it in an error.
   */
  setSizes(index: number, sizes: Partial<Record<SizeName, number>>, dev: string): void {
    const attrs = (Object.entries(sizes) as [SizeName, number][]).map(([n, v]) => u32Attr(SIZE_ATTRS[n], v));
    const what = Object.entries(sizes)
      .map(([n, v]) => `${n} ${v}`)
      .join(' ');
    this.queue(RTM.NEWLINK, 0, [ifinfomsg(index), ...attrs], `link set dev ${dev} ${what}`);
  }

  /** The index of a link by name (made by a queued request, if need be), or a NetlinkError ENODEV naming it. */
  index(name: string): number {
    const known = this.indexes.get(name);
    if (known !== undefined) return known;
    const l = this.link(name);
    if (!l) throw new NetlinkError(`Device "${name}"`, ENODEV);
    return l.ifindex;
  }
}

/** Linux answers EINVAL to a GETLINK whose name is too long, ENODEV to one that is not there. */
const EINVAL_NAME = 22;

/** Runs `fn` with a socket in `ns`, sends what it queued, and closes the socket. */
export function withRtnl<T>(ns: NetnsRef | undefined, fn: (nl: Rtnl) => T): T {
  const nl = Rtnl.open(ns);
  try {
    const r = fn(nl);
    nl.flush();
    return r;
  } finally {
    nl.close();
  }
}
