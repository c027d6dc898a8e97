/**
 * `ip -batch` lines, done over netlink instead of by an `ip` process: the plugins keep writing the
 * commands they mean (`link add … type veth peer …`, `addr add …`, `route add …`), and this runs
 * the subset they use as rtnetlink requests in this process — one `ip` start is ~8.5 ms here, a
 * request a few microseconds. A batch with any line outside the subset runs whole in `ip -batch`,
 * so a new option never changes behaviour silently; each line that is understood is sent as the
 * one request `ip` would send for it (iproute2's defaults: route scope link without a gateway,
 * protocol boot, table main).
 */
import { openSync } from 'node:fs';
import { CnilabError } from '../errors';
import { parseAddr } from '../ip';
import { ipBatch, netnsPath, type NetnsRef } from '../netns';
import {
  addrBytes,
  attr,
  ENODEV,
  IFA,
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
  ifaddrmsg,
  IFF_PROMISC,
  IFF_UP,
  IFLA,
  IFLA_BRPORT_MODE,
  IFLA_INFO,
  ifinfomsg,
  macBytes,
  NDA,
  ndmsg,
  nested,
  NetlinkError,
  NLM_F,
  NUD,
  RTA,
  RTAX_MTU,
  RT_SCOPE,
  RT_SCOPE_NOWHERE,
  RT_TABLE,
  RTM,
  rtmsg,
  strAttr,
  u32Attr,
  u8Attr,
  VETH_INFO_PEER,
  withRtnl,
  type Rtnl,
} from './rtnl';

/** One line, ready to send: given the socket, does it. */
type Op = (nl: Rtnl) => void;

class Unsupported extends Error {}

/** Named namespace or PID, as `ip … netns X` takes it. */
function netnsFd(target: string): number {
  const path = netnsPath(/^\d+$/.test(target) ? { pid: Number(target) } : { name: target });
  try {
    return openSync(path, 'r');
  } catch (e) {
    throw new CnilabError(
      'NOT_FOUND',
      `network namespace ${path}: ${(e as NodeJS.ErrnoException).code ?? 'cannot open'}`,
    );
  }
}

/** key/value options of a `link add` or `link set` part; `flags` are the valueless words allowed. */
function options(
  words: readonly string[],
  keys: readonly string[],
  flags: readonly string[] = [],
): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (flags.includes(w)) m.set(w, '');
    else if (keys.includes(w) && i + 1 < words.length) m.set(w, words[++i]!);
    else throw new Unsupported(w);
  }
  return m;
}

function int(s: string, what: string): number {
  if (!/^\d+$/.test(s)) throw new CnilabError('INVALID_INPUT', `${what} ${JSON.stringify(s)} is not a number`);
  return Number(s);
}

/** IFLA attributes of a new link's own part (name, address, mtu, netns) and the fds to close after. */
function linkAttrs(o: Map<string, string>, fds: number[]): Buffer[] {
  const out: Buffer[] = [];
  if (o.has('name')) out.push(strAttr(IFLA.IFNAME, o.get('name')!));
  if (o.has('address')) out.push(attr(IFLA.ADDRESS, macBytes(o.get('address')!)));
  if (o.has('mtu')) out.push(u32Attr(IFLA.MTU, int(o.get('mtu')!, 'mtu')));
  if (o.has('netns')) {
    const fd = netnsFd(o.get('netns')!);
    fds.push(fd);
    out.push(u32Attr(IFLA.NET_NS_FD, fd));
  }
  return out;
}

/** Runs `fn` with a list its namespace fds go to, held by the socket until the request is sent. */
function withFds(nl: Rtnl, fn: (fds: number[]) => void): void {
  const fds: number[] = [];
  try {
    fn(fds);
  } finally {
    for (const fd of fds) nl.hold(fd);
  }
}

function linkAdd(words: readonly string[]): Op {
  const t = words.indexOf('type');
  if (t < 0) throw new Unsupported('link add without type');
  // `ip link add NAME …` is `ip link add name NAME …`
  const head = words.slice(0, t);
  const keys = ['name', 'address', 'mtu', 'netns', 'link'];
  const bare = head.length % 2 === 1 && !keys.includes(head[0]!);
  const own = options(bare ? ['name', ...head] : head, keys);
  const kind = words[t + 1];
  // the RTM_NEWLINK that creates it: its own attributes, then the kind's (made when it is sent)
  const create =
    (rest: (nl: Rtnl, fds: number[]) => Buffer[]): Op =>
    (nl) =>
      withFds(nl, (fds) =>
        nl.queue(
          RTM.NEWLINK,
          NLM_F.CREATE | NLM_F.EXCL,
          [ifinfomsg(0), ...linkAttrs(own, fds), ...rest(nl, fds)],
          `link add ${own.get('name') ?? ''}`,
        ),
      );
  if (kind === 'bridge' && words.length === t + 2)
    return create(() => [nested(IFLA.LINKINFO, strAttr(IFLA_INFO.KIND, 'bridge'))]);
  if (kind === 'veth' && words[t + 2] === 'peer') {
    const peer = options(words.slice(t + 3), ['name', 'address', 'mtu', 'netns']);
    return create((_nl, fds) => [
      nested(
        IFLA.LINKINFO,
        strAttr(IFLA_INFO.KIND, 'veth'),
        nested(IFLA_INFO.DATA, attr(VETH_INFO_PEER, Buffer.concat([ifinfomsg(0), ...linkAttrs(peer, fds)]))),
      ),
    ]);
  }
  const data = subInterfaceData(kind, words.slice(t + 2));
  if (data && own.has('link'))
    return create((nl) => [
      u32Attr(IFLA.LINK, nl.index(own.get('link')!)),
      nested(IFLA.LINKINFO, strAttr(IFLA_INFO.KIND, kind!), nested(IFLA_INFO.DATA, data)),
    ]);
  throw new Unsupported(`link add type ${kind}`);
}

const MACVLAN_MODE: Record<string, number> = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 };
const IPVLAN_MODE: Record<string, number> = { l2: 0, l3: 1, l3s: 2 };

/** IFLA_INFO_DATA of a device on a master — `macvlan mode M`, `ipvlan mode M`, `vlan id N` — or undefined. */
function subInterfaceData(kind: string | undefined, rest: readonly string[]): Buffer | undefined {
  const [key, value, ...more] = rest;
  if (more.length > 0 || value === undefined) return undefined;
  const u16 = (type: number, v: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v, 0);
    return attr(type, b);
  };
  if (kind === 'macvlan' && key === 'mode' && value in MACVLAN_MODE) return u32Attr(1, MACVLAN_MODE[value]!);
  if (kind === 'ipvlan' && key === 'mode' && value in IPVLAN_MODE) return u16(1, IPVLAN_MODE[value]!);
  if (kind === 'vlan' && key === 'id') return u16(1, int(value, 'vlan id'));
  return undefined;
}

function onOff(v: string, what: string): boolean {
  if (v !== 'on' && v !== 'off') throw new CnilabError('INVALID_INPUT', `${what} must be on or off, not ${v}`);
  return v === 'on';
}

function linkSet(words: readonly string[]): Op {
  const dev = words[0] === 'dev' ? words[1] : words[0];
  if (!dev) throw new Unsupported('link set without a device');
  const rest = words.slice(words[0] === 'dev' ? 2 : 1);
  const t = rest.indexOf('type');
  const o = options(
    t < 0 ? rest : rest.slice(0, t),
    ['alias', 'master', 'mtu', 'address', 'name', 'netns', 'promisc'],
    ['up', 'down', 'nomaster'],
  );
  // the one slave option the plugins set: `type bridge_slave hairpin on|off`
  const slave = t < 0 ? undefined : rest.slice(t + 1);
  if (slave && !(slave.length === 3 && slave[0] === 'bridge_slave' && slave[1] === 'hairpin'))
    throw new Unsupported('link set type');
  return (nl) =>
    withFds(nl, (fds) => {
      let flags = 0;
      let change = 0;
      if (o.has('up')) [flags, change] = [flags | IFF_UP, change | IFF_UP];
      if (o.has('down')) change |= IFF_UP;
      if (o.has('promisc')) {
        change |= IFF_PROMISC;
        if (onOff(o.get('promisc')!, 'promisc')) flags |= IFF_PROMISC;
      }
      const attrs: Buffer[] = [];
      if (o.has('alias')) attrs.push(strAttr(IFLA.IFALIAS, o.get('alias')!));
      if (o.has('master')) attrs.push(u32Attr(IFLA.MASTER, nl.index(o.get('master')!)));
      if (o.has('nomaster')) attrs.push(u32Attr(IFLA.MASTER, 0));
      if (o.has('mtu')) attrs.push(u32Attr(IFLA.MTU, int(o.get('mtu')!, 'mtu')));
      if (o.has('address')) attrs.push(attr(IFLA.ADDRESS, macBytes(o.get('address')!)));
      if (o.has('netns')) {
        const fd = netnsFd(o.get('netns')!);
        fds.push(fd);
        attrs.push(u32Attr(IFLA.NET_NS_FD, fd));
      }
      if (slave)
        attrs.push(
          nested(
            IFLA.LINKINFO,
            strAttr(IFLA_INFO.SLAVE_KIND, 'bridge'),
            nested(IFLA_INFO.SLAVE_DATA, u8Attr(IFLA_BRPORT_MODE, onOff(slave[2]!, 'hairpin') ? 1 : 0)),
          ),
        );
      // by name, so that it can follow the `link add` of the same batch in one send; by index to rename
      const target = o.has('name')
        ? [ifinfomsg(nl.index(dev), flags, change)]
        : [ifinfomsg(0, flags, change), strAttr(IFLA.IFNAME, dev)];
      if (o.has('name')) attrs.push(strAttr(IFLA.IFNAME, o.get('name')!));
      nl.queue(RTM.NEWLINK, 0, [...target, ...attrs], `link set ${dev}`);
    });
}

function linkDel(words: readonly string[]): Op {
  const dev = words[0] === 'dev' ? words[1] : words[0];
  if (!dev || words.length !== (words[0] === 'dev' ? 2 : 1)) throw new Unsupported('link delete');
  return (nl) => nl.queue(RTM.DELLINK, 0, [ifinfomsg(0), strAttr(IFLA.IFNAME, dev)], `link delete ${dev}`);
}

function prefixOf(s: string, what: string): { addr: ReturnType<typeof parseAddr> & object; len: number } {
  if (s === 'default') return { addr: { family: 4, value: 0n }, len: 0 };
  const [a, l] = s.split('/') as [string, string | undefined];
  const addr = parseAddr(a);
  if (!addr) throw new CnilabError('INVALID_INPUT', `${what} ${JSON.stringify(s)} is not an address`);
  const max = addr.family === 4 ? 32 : 128;
  const len = l === undefined ? max : int(l, what);
  if (len > max) throw new CnilabError('INVALID_INPUT', `${what} ${JSON.stringify(s)} has a prefix longer than ${max}`);
  return { addr, len };
}

function addr(cmd: string, words: readonly string[]): Op {
  const [cidr, ...rest] = words;
  if (!cidr) throw new Unsupported('addr without address');
  const o = options(rest, ['dev'], ['nodad', 'noprefixroute']);
  const dev = o.get('dev');
  if (!dev) throw new Unsupported('addr without dev');
  const { addr: a, len } = prefixOf(cidr, 'address');
  const flags = (o.has('nodad') ? IFA_F_NODAD : 0) | (o.has('noprefixroute') ? IFA_F_NOPREFIXROUTE : 0);
  const type = cmd === 'del' || cmd === 'delete' ? RTM.DELADDR : RTM.NEWADDR;
  const nlFlags = cmd === 'add' ? NLM_F.CREATE | NLM_F.EXCL : cmd === 'replace' ? NLM_F.CREATE | NLM_F.REPLACE : 0;
  const bytes = addrBytes(a);
  return (nl) =>
    nl.queue(
      type,
      nlFlags,
      [
        ifaddrmsg(a.family, len, nl.index(dev), flags),
        attr(IFA.LOCAL, bytes),
        attr(IFA.ADDRESS, bytes),
        ...(flags ? [u32Attr(IFA.FLAGS, flags)] : []),
      ],
      `addr ${cmd} ${cidr} dev ${dev}`,
    );
}

function route(cmd: string, words: readonly string[]): Op {
  const [dst, ...rest] = words;
  if (!dst) throw new Unsupported('route without destination');
  const o = options(rest, ['via', 'dev', 'scope', 'src', 'mtu', 'metric', 'table']);
  const del = cmd === 'del' || cmd === 'delete';
  const d = prefixOf(dst, 'route');
  const gw = o.has('via') ? prefixOf(o.get('via')!, 'via') : undefined;
  const family = gw && dst === 'default' ? gw.addr.family : d.addr.family;
  const scopeWord = o.get('scope');
  if (scopeWord !== undefined && !(scopeWord in RT_SCOPE)) throw new Unsupported(`scope ${scopeWord}`);
  const tableWord = o.get('table') ?? 'main';
  const table = tableWord in RT_TABLE ? RT_TABLE[tableWord as keyof typeof RT_TABLE] : int(tableWord, 'table');
  const scope =
    scopeWord !== undefined
      ? RT_SCOPE[scopeWord as keyof typeof RT_SCOPE]
      : del
        ? RT_SCOPE_NOWHERE
        : gw
          ? RT_SCOPE.universe
          : RT_SCOPE.link;
  const type = del ? RTM.DELROUTE : RTM.NEWROUTE;
  const nlFlags = cmd === 'add' ? NLM_F.CREATE | NLM_F.EXCL : cmd === 'replace' ? NLM_F.CREATE | NLM_F.REPLACE : 0;
  return (nl) => {
    const attrs: Buffer[] = [];
    if (d.len > 0) attrs.push(attr(RTA.DST, addrBytes({ family, value: d.addr.value })));
    if (gw) attrs.push(attr(RTA.GATEWAY, addrBytes(gw.addr)));
    if (o.has('dev')) attrs.push(u32Attr(RTA.OIF, nl.index(o.get('dev')!)));
    if (o.has('src')) attrs.push(attr(RTA.PREFSRC, addrBytes(prefixOf(o.get('src')!, 'src').addr)));
    if (o.has('metric')) attrs.push(u32Attr(RTA.PRIORITY, int(o.get('metric')!, 'metric')));
    if (table > 255) attrs.push(u32Attr(RTA.TABLE, table));
    if (o.has('mtu')) attrs.push(nested(RTA.METRICS, u32Attr(RTAX_MTU, int(o.get('mtu')!, 'mtu'))));
    nl.queue(type, nlFlags, [rtmsg(family, d.len, scope, table, del), ...attrs], `route ${cmd} ${dst}`);
  };
}

/** `neigh add|replace|del ADDR [lladdr MAC] dev DEV [nud STATE]`: a static neighbour entry. */
function neigh(cmd: string, words: readonly string[]): Op {
  const [dst, ...rest] = words;
  if (!dst) throw new Unsupported('neigh without address');
  const o = options(rest, ['lladdr', 'dev', 'nud']);
  const dev = o.get('dev');
  if (!dev) throw new Unsupported('neigh without dev');
  const nud = o.get('nud') ?? 'permanent';
  if (!(nud in NUD)) throw new Unsupported(`nud ${nud}`);
  const a = prefixOf(dst, 'neigh').addr;
  const del = cmd === 'del' || cmd === 'delete';
  const nlFlags = cmd === 'add' ? NLM_F.CREATE | NLM_F.EXCL : cmd === 'replace' ? NLM_F.CREATE | NLM_F.REPLACE : 0;
  const mac = o.has('lladdr') ? macBytes(o.get('lladdr')!) : undefined;
  return (nl) =>
    nl.queue(
      del ? RTM.DELNEIGH : RTM.NEWNEIGH,
      nlFlags,
      [
        ndmsg(a.family, nl.index(dev), del ? 0 : NUD[nud as keyof typeof NUD]),
        attr(NDA.DST, addrBytes(a)),
        ...(mac && !del ? [attr(NDA.LLADDR, mac)] : []),
      ],
      `neigh ${cmd} ${dst} dev ${dev}`,
    );
}

/** The netlink request of one `ip` line, or Unsupported. */
export function compileLine(line: readonly string[]): Op {
  const [obj, cmd, ...rest] = line;
  if (obj === 'link' && cmd === 'add') return linkAdd(rest);
  if (obj === 'link' && cmd === 'set') return linkSet(rest);
  if (obj === 'link' && (cmd === 'delete' || cmd === 'del')) return linkDel(rest);
  if ((obj === 'addr' || obj === 'address') && ['add', 'replace', 'del', 'delete'].includes(cmd ?? ''))
    return addr(cmd!, rest);
  if (obj === 'route' && ['add', 'replace', 'del', 'delete'].includes(cmd ?? '')) return route(cmd!, rest);
  if ((obj === 'neigh' || obj === 'neighbour') && ['add', 'replace', 'del', 'delete'].includes(cmd ?? ''))
    return neigh(cmd!, rest);
  throw new Unsupported(`${obj} ${cmd}`);
}

/** Whether every line is in the subset done over netlink. */
export function netlinkCan(lines: readonly (readonly string[])[]): boolean {
  try {
    lines.forEach(compileLine);
    return true;
  } catch (e) {
    if (e instanceof Unsupported) return false;
    throw e;
  }
}

/**
 * The lines in `ns`, in order: over netlink when every line is in the subset — in one send(), but
 * for a line that needs the index of a link a queued line makes (the queue goes first) — else by
 * `ip -batch`. Unlike `ip -batch`, the requests after a failing one still run (the kernel runs every
 * message of a send); the first error is thrown, and callers roll back as for any failure.
 */
export async function kernelBatch(ns: NetnsRef | undefined, lines: readonly (readonly string[])[]): Promise<void> {
  if (lines.length === 0) return;
  let ops: Op[];
  try {
    ops = lines.map(compileLine);
  } catch (e) {
    if (e instanceof Unsupported) return ipBatch(ns, lines);
    throw e;
  }
  withRtnl(ns, (nl) => {
    for (const op of ops) op(nl);
  });
}

/** Deletes a link; "not there" is fine. */
export function deleteLinkNl(ns: NetnsRef | undefined, name: string): void {
  try {
    withRtnl(ns, (nl) => nl.request(RTM.DELLINK, 0, [ifinfomsg(0), strAttr(IFLA.IFNAME, name)], `link delete ${name}`));
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === ENODEV) return;
    if (e instanceof CnilabError && e.code === 'NOT_FOUND') return; // the namespace is gone, and the link with it
    throw e;
  }
}
