/**
 * ipsec, the way Cilium's IPsec does it (docs/encryption.md says why this design and not flannel's
 * strongSwan one): no IKE daemon — one cluster key (SPI, AEAD rfc4106(gcm(aes)), 128-bit ICV), made
 * by the lab once as an orchestrator's Secret is and placed in each node's folder (0600) as kubelet
 * mounts one; one inbound ESP tunnel-mode xfrm state per node (from any source: a state is known
 * by destination, SPI and protocol) and one outbound per peer node, and xfrm policies that send
 * what goes from this node's pod subnet to the peer's through the peer's state (out), and let in
 * only what came through ESP (in, fwd). Pod packets are routed as host-gw
 * routes them — via the peer's underlay address — and the out policy encrypts them on the way.
 * MTU = underlay − 57: outer IPv4 20 + ESP header 8 + IV 8 + padding ≤ 3 + trailer 2 + ICV 16.
 *
 *   pod ── cni0 ── (route via peer; xfrm out policy ⇒ ESP) ── eth0 ══ switch ══ eth0 ── (xfrm in) ── cni0 ── pod
 *
 * The key reaches `ip` on its standard input (`ip -batch -`), never its argv.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { CnilabError } from '../../lib/errors';
import { ip, ipBatch } from '../../lib/netns';
import { enableForwarding, readRoutes, routeChanges } from '../../node/routes';
import { ipv4Subnet, type Lease } from '../subnet/model';
import type { Backend } from './backend';

/** Outer IPv4 20 + ESP 8 + IV 8 + padding ≤ 3 + pad length and next header 2 + ICV 16. */
export const IPSEC_OVERHEAD = 57;
export const IPSEC_AEAD = 'rfc4106(gcm(aes))';
/** The request id tying the policies to their states (one key, one id: Cilium's single-key mode). */
const REQID = '1';
/** The source of the one inbound state, and of the in and fwd policies' template: any peer. */
const ANY = '0.0.0.0';
/** The key file's name in a node's folder. */
export const IPSEC_KEY_FILE = 'ipsec.key';

export interface IpsecKey {
  readonly spi: number;
  /** 0x + 20 bytes in hex: a 16-byte AES key and GCM's 4-byte salt. */
  readonly key: string;
  readonly icvBits: number;
}

/** A new cluster key, as its file holds it: `SPI AEAD KEY ICV` (Cilium's keys file, one line). */
export function newIpsecKeyText(spi = 3): string {
  return `${spi} ${IPSEC_AEAD} 0x${randomBytes(20).toString('hex')} 128\n`;
}

/** Writes `text` to `file` (0600) unless it is there; a key file others may read is refused. */
export function placeIpsecKey(file: string, text: () => string): void {
  if (!existsSync(file)) writeFileSync(file, text(), { mode: 0o600, flag: 'wx' });
  readIpsecKey(file);
}

/** The key in `file`, checked: its mode (0600), its fields. */
export function readIpsecKey(file: string): IpsecKey {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new CnilabError(
      'INVALID_INPUT',
      `${file}: mode ${mode.toString(8).padStart(4, '0')} lets others read the IPsec key; chmod 600 it`,
    );
  const m = /^(\d+) (\S+) (0x[0-9a-f]{40}) (\d+)\s*$/.exec(readFileSync(file, 'utf8'));
  if (!m || m[2] !== IPSEC_AEAD)
    throw new CnilabError('INVALID_INPUT', `${file}: not "SPI ${IPSEC_AEAD} 0x<40 hex digits> ICV_BITS"`);
  return { spi: Number(m[1]), key: m[3]!, icvBits: Number(m[4]) };
}

/** An xfrm state's or policy's selector, from `ip xfrm … list` (which has no JSON): its addresses, a policy's dir. */
export interface XfrmEntry {
  readonly src: string;
  readonly dst: string;
  readonly dir?: string;
  /** A state's SPI, as listed (0x00000003). */
  readonly spi?: string;
}

/** The entries of `ip xfrm state list` or `ip xfrm policy list`: each starts with a line "src A dst B". */
export function parseXfrm(text: string): XfrmEntry[] {
  const out: { src: string; dst: string; dir?: string; spi?: string }[] = [];
  for (const line of text.split('\n')) {
    const head = /^src (\S+) dst (\S+)/.exec(line);
    if (head) out.push({ src: head[1]!, dst: head[2]! });
    const dir = /^\s+dir (\w+)/.exec(line);
    if (dir && out.length > 0) out[out.length - 1]!.dir = dir[1]!;
    const spi = /^\s+proto esp spi (0x[0-9a-f]+)/.exec(line);
    if (spi && out.length > 0) out[out.length - 1]!.spi = spi[1]!;
  }
  return out;
}

/**
 * The ip -batch lines making this node's xfrm states and policies for `peers`: the states it does
 * not hold (`held`; the key never changes in a lab, and `update` of a missing state fails), and
 * every policy (`update` makes or replaces one).
 */
export function xfrmLines(
  own: Lease,
  peers: readonly Lease[],
  key: IpsecKey,
  held: readonly XfrmEntry[] = [],
): string[][] {
  const spi = `0x${key.spi.toString(16)}`;
  const have = new Set(held.map((e) => `${e.src} ${e.dst}`));
  const state = (src: string, dst: string): string[][] =>
    have.has(`${src} ${dst}`)
      ? []
      : [
          [
            'xfrm',
            'state',
            'add',
            'src',
            src,
            'dst',
            dst,
            'proto',
            'esp',
            'spi',
            spi,
            'reqid',
            REQID,
            'mode',
            'tunnel',
            'aead',
            IPSEC_AEAD,
            key.key,
            String(key.icvBits),
          ],
        ];
  const policy = (dir: string, src: string, dst: string, from: string, to: string): string[] => [
    'xfrm',
    'policy',
    'update',
    'src',
    src,
    'dst',
    dst,
    'dir',
    dir,
    'tmpl',
    'src',
    from,
    'dst',
    to,
    'proto',
    'esp',
    'reqid',
    REQID,
    'mode',
    'tunnel',
  ];
  // A state is known by its destination, SPI and protocol: with one SPI, one inbound state per node,
  // from any source (Cilium's), and one outbound per peer.
  return [
    ...state(ANY, own.publicIp),
    ...peers.flatMap((p) => [
      ...state(own.publicIp, p.publicIp),
      policy('out', ipv4Subnet(own), ipv4Subnet(p), own.publicIp, p.publicIp),
      policy('in', ipv4Subnet(p), ipv4Subnet(own), ANY, own.publicIp),
      policy('fwd', ipv4Subnet(p), ipv4Subnet(own), ANY, own.publicIp),
    ]),
  ];
}

/** The lines deleting what this node holds that `wanted` (xfrmLines' output) does not make: a gone peer's. */
export function staleLines(
  states: readonly XfrmEntry[],
  policies: readonly XfrmEntry[],
  wanted: string[][],
): string[][] {
  const key = (e: XfrmEntry): string => `${e.src} ${e.dst} ${e.dir ?? ''}`;
  const want = new Set(
    wanted.map((l) => key({ src: l[4]!, dst: l[6]!, ...(l[1] === 'policy' ? { dir: l[8]! } : {}) })),
  );
  return [
    ...states
      .filter((e) => !want.has(key({ src: e.src, dst: e.dst })))
      // `delete` by SPI, not `deleteall`: in `ip -batch`, deleteall ends the batch (iproute2 6.1).
      .map((e) => ['xfrm', 'state', 'delete', 'src', e.src, 'dst', e.dst, 'proto', 'esp', 'spi', e.spi ?? '0']),
    ...policies
      .filter((e) => e.dir !== undefined && !want.has(key(e)))
      .map((e) => ['xfrm', 'policy', 'delete', 'src', e.src, 'dst', e.dst, 'dir', e.dir!]),
  ];
}

const xfrmList = async (what: 'state' | 'policy'): Promise<XfrmEntry[]> =>
  parseXfrm((await ip(undefined, ['xfrm', what, 'list'])).stdout);

export const ipsecBackend: Backend = async (ctx) => {
  enableForwarding();
  const key = readIpsecKey(`${ctx.runDir}/${IPSEC_KEY_FILE}`);
  let own: Lease | undefined;
  return {
    mtu: ctx.underlayMtu - IPSEC_OVERHEAD,
    backendData: {},
    configure: async (lease) => {
      own = lease;
    },
    sync: async (peers) => {
      if (!own) throw new CnilabError('AGENT_FAILED', 'ipsec: sync before the lease was configured');
      const routes = routeChanges(
        ctx.iface,
        await readRoutes(ctx.iface),
        peers.map((p) => ({ dst: ipv4Subnet(p), via: p.publicIp })),
      );
      const all = xfrmLines(own, peers, key);
      // A gone peer's route first, then its policies, then its state; then the missing states and every policy.
      // One batch per kind: after a failed xfrm line, `ip -batch` drops the lines that follow (iproute2 6.1).
      await ipBatch(undefined, routes.del, { force: true });
      const stale = staleLines(await xfrmList('state'), await xfrmList('policy'), all);
      await ipBatch(
        undefined,
        stale.filter((l) => l[1] === 'policy'),
        { force: true },
      );
      await ipBatch(
        undefined,
        stale.filter((l) => l[1] === 'state'),
        { force: true },
      );
      await ipBatch(undefined, xfrmLines(own, peers, key, await xfrmList('state')));
      await ipBatch(undefined, routes.add);
    },
  };
};

/**
 * The doctor's `ipsec` probe: an ESP tunnel state with the design's AEAD, made and removed in the
 * throwaway namespace (with a key of zeros: no secret). A kernel without ESP (esp4) refuses it.
 */
export const ipsecProbe = {
  feature: 'ipsec',
  async probe(ns: string): Promise<{ readonly ok: boolean; readonly detail: string }> {
    const sel = ['src', '198.18.255.1', 'dst', '198.18.255.2', 'proto', 'esp', 'spi', '0x1'];
    const r = await ip(
      { name: ns },
      ['xfrm', 'state', 'add', ...sel, 'mode', 'tunnel', 'aead', IPSEC_AEAD, `0x${'0'.repeat(40)}`, '128'],
      {
        check: false,
      },
    );
    if (r.code !== 0)
      return {
        ok: false,
        detail: `the kernel has no ESP with ${IPSEC_AEAD} (modules esp4, aes, gcm): ${r.stderr.trim()}`,
      };
    await ip({ name: ns }, ['xfrm', 'state', 'delete', ...sel], { check: false });
    return { ok: true, detail: `kernel xfrm: ESP with ${IPSEC_AEAD}` };
  },
};
