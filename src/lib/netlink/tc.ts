/**
 * tc's eBPF attachment over netlink: a `clsact` qdisc on a link and a direct-action `bpf` filter
 * on its ingress hook — what `tc qdisc add dev X clsact; tc filter replace dev X ingress pref 1
 * handle 1 bpf da object-pinned PROG` sends, without starting `tc`. Filters are listed the same way
 * (`tc -j filter show dev X ingress`), for CHECK, tests and the doctor.
 */
import {
  EEXIST,
  nested,
  NetlinkError,
  NLM_F,
  parseAttrs,
  RTM,
  strAttr,
  TC_H,
  TCA,
  TCA_BPF,
  TCA_BPF_FLAG_ACT_DIRECT,
  tcmsg,
  u32Attr,
  type Rtnl,
} from './rtnl';

const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL)
/**
 * The preference and handle an architecture's filter takes on a hook: replacing it is atomic. Pref
 * 1, before it, is the eBPF Service proxy's (src/proxy/ebpf/attach.ts), which translates a packet
 * and passes it on to this one.
 */
export const BPF_FILTER_PREF = 2;
const BPF_FILTER_HANDLE = 1;

export type TcHook = 'ingress' | 'egress';
const parentOf = (hook: TcHook): number => (hook === 'ingress' ? TC_H.INGRESS : TC_H.EGRESS);

/** A tc filter as `tc -j filter show` gives its kind and, for bpf, the program. */
export interface TcFilter {
  readonly kind: string;
  readonly pref: number;
  /** bpf: the program's name (`from_pod`) and its kernel ID. */
  readonly name?: string;
  readonly progId?: number;
  readonly directAction?: boolean;
}

/** Adds the clsact qdisc to link `index` unless it has one. */
export function ensureClsact(nl: Rtnl, index: number, dev: string): void {
  try {
    nl.request(
      RTM.NEWQDISC,
      NLM_F.CREATE | NLM_F.EXCL,
      [tcmsg(index, TC_H.CLSACT_HANDLE, TC_H.CLSACT), strAttr(TCA.KIND, 'clsact')],
      `qdisc add dev ${dev} clsact`,
    );
  } catch (e) {
    if (!(e instanceof NetlinkError && e.errno === EEXIST)) throw e;
  }
}

/**
 * Attaches the program open as `progFd` to `hook` of link `index`, in direct-action mode, as
 * cnilab's filter (pref `pref`, default an architecture's, 2; handle 1): one that is there already is replaced in one
 * step, so packets see the old program or the new, never none.
 */
export function attachBpf(
  nl: Rtnl,
  index: number,
  dev: string,
  hook: TcHook,
  progFd: number,
  name: string,
  pref = BPF_FILTER_PREF,
): void {
  ensureClsact(nl, index, dev);
  nl.request(
    RTM.NEWTFILTER,
    NLM_F.CREATE,
    [
      tcmsg(index, BPF_FILTER_HANDLE, parentOf(hook), ((pref << 16) | ETH_P_ALL_BE) >>> 0),
      strAttr(TCA.KIND, 'bpf'),
      nested(
        TCA.OPTIONS,
        u32Attr(TCA_BPF.FD, progFd),
        strAttr(TCA_BPF.NAME, name),
        u32Attr(TCA_BPF.FLAGS, TCA_BPF_FLAG_ACT_DIRECT),
      ),
    ],
    `filter replace dev ${dev} ${hook} bpf ${name}`,
  );
}

/** The filters on `hook` of link `index`; none when it has no clsact. */
export function listFilters(nl: Rtnl, index: number, hook: TcHook): TcFilter[] {
  const out: TcFilter[] = [];
  try {
    nl.dump(RTM.GETTFILTER, [tcmsg(index, 0, parentOf(hook))], `filter show ${hook}`, (b, off, end) => {
      const info = b.readUInt32LE(off + 16);
      const handle = b.readUInt32LE(off + 8);
      const a = parseAttrs(b, off + 20, end);
      const kind = a.get(TCA.KIND)?.toString('utf8').replace(/\0.*$/s, '') ?? '';
      // the dump gives each filter's chain head (handle 0) too; the filter itself has a handle
      if (handle === 0) return;
      const f: { -readonly [K in keyof TcFilter]: TcFilter[K] } = { kind, pref: info >>> 16 };
      const opts = a.get(TCA.OPTIONS);
      if (kind === 'bpf' && opts) {
        const o = parseAttrs(opts, 0, opts.length);
        const name = o.get(TCA_BPF.NAME);
        if (name) f.name = name.toString('utf8').replace(/\0.*$/s, '');
        const id = o.get(TCA_BPF.ID);
        if (id) f.progId = id.readUInt32LE(0);
        const flags = o.get(TCA_BPF.FLAGS);
        f.directAction = flags ? (flags.readUInt32LE(0) & TCA_BPF_FLAG_ACT_DIRECT) !== 0 : false;
      }
      out.push(f);
    });
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === EINVAL) return out; // no clsact: nothing to list
    throw e;
  }
  return out;
}

const EINVAL = 22;

/** Removes cnilab's filter (pref `pref`, default an architecture's) from `hook` of link `index`; "not there" is fine. */
export function detachBpf(nl: Rtnl, index: number, dev: string, hook: TcHook, pref = BPF_FILTER_PREF): void {
  try {
    nl.request(
      RTM.DELTFILTER,
      0,
      [tcmsg(index, BPF_FILTER_HANDLE, parentOf(hook), ((pref << 16) | ETH_P_ALL_BE) >>> 0), strAttr(TCA.KIND, 'bpf')],
      `filter del dev ${dev} ${hook} pref ${pref}`,
    );
  } catch (e) {
    if (e instanceof NetlinkError && [2, 22].includes(e.errno)) return; // ENOENT, EINVAL: no such filter or no clsact
    throw e;
  }
}
