/**
 * The eBPF NetworkPolicy design ('ebpf'), Cilium's layout enforced by the ebpf kind's own tc
 * programs (src/ebpf/bpf/datapath.c): policy_eps, ipcache, policy and ct, pinned in the node's
 * folder of the kind's bpffs (node.dir) by the agent's loadDatapath. A sync computes what the maps
 * should hold (desired.ts) and writes only the difference, in an order that never opens a pod
 * that should be closed:
 *
 *   1. ipcache entries added (new prefixes: their addresses get an identity no rule allows yet)
 *   2. policy entries added (the new allows)
 *   3. policy_eps set and deleted (a newly isolated endpoint only now, after its allows)
 *   4. policy entries deleted (the stale allows)
 *   5. ipcache entries deleted
 *
 * The difference is from `previous` (what the last sync wrote); without it (an agent's restart)
 * from what the pinned maps hold, read back — nothing is emptied first, so an isolated pod stays
 * isolated throughout. The ipcache is always read back: it holds the identities' allocation.
 * Established flows (ct) outlive a policy change, as in Cilium; an endpoint leaving policy_eps
 * loses its ct entries (its address may be a new pod's later), and `cleanup` empties ct.
 *
 * Replies through the eBPF Service proxy (src/proxy/ebpf/, tc pref 1): client A sends to VIP:80,
 * svc_from_pod DNATs it to B:8080 before from_pod, so A's egress entry is {A→B:8080}. B's reply is
 * translated back to VIP:80→A by the proxy before this data path sees it (svc_from_pod on B's veth,
 * or svc_to_pod on A's node's underlay or tunnel device), so the proxy leaves the address and port
 * it replaced in skb->cb[0], cb[1] with a mark in cb[2] (cleared on every other packet), and
 * deliver()'s reply lookup uses them: it finds A's {A→B:8080}. cb[] is kept from one tc filter to
 * the next of one hook, and a pod cannot write it. test/integration/policy-ebpf.test.ts checks it.
 *
 * Known gaps. (1) B's egress is not checked on a reply the proxy translated on B's own veth (its
 * source is then the VIP, not an endpoint); a reply is allowed anyway. (2) A packet the programs hand to the stack (TTL ≤ 1, no route, the
 * node's own address) is checked on egress only; traffic the node's stack sends into a pod's
 * veth (not through deliver()) is not checked on ingress. (3) Non-first IP fragments carry no
 * ports: they are matched with port 0, so an isolated endpoint drops them unless a rule allows
 * every port. (4) ct entries never age out but by LRU eviction.
 */
import { performance } from 'node:perf_hooks';
import type { PolicyDesign, PolicyNode, PolicySyncReport } from '../../policy/design';
import type { PolicyInput } from '../../policy/model';
import { BpfMap } from '../../lib/bpf';
import { CnilabError } from '../../lib/errors';
import { formatIPv4 } from '../../lib/ip';
import { run } from '../../lib/exec';
import { pins } from '../../cni/plugins/ebpf/maps';
import { desired, plan, type Desired } from './desired';
import {
  CT_ENDPOINT_AT,
  CT_KEY_SIZE,
  decodeIpcacheKey,
  decodePolicyKey,
  decodeU32,
  hex,
  IPCACHE_KEY_SIZE,
  POLICY_EP_SIZE,
  POLICY_KEY_SIZE,
  U32,
  unhex,
} from './maps';

interface PolicyMaps {
  readonly eps: BpfMap;
  readonly ipcache: BpfMap;
  readonly policy: BpfMap;
  readonly ct: BpfMap;
}

/** Runs `fn` with the node's four policy maps open; undefined when they are not pinned (no data path). */
function withMaps<T>(dir: string, fn: (m: PolicyMaps) => T): T | undefined {
  const p = pins(dir);
  const open: BpfMap[] = [];
  try {
    const at = (path: string): BpfMap => {
      const m = BpfMap.open(path);
      open.push(m);
      return m;
    };
    return fn({ eps: at(p.policyEps), ipcache: at(p.ipcache), policy: at(p.policy), ct: at(p.ct) });
  } catch (e) {
    if (e instanceof CnilabError && e.code === 'NOT_FOUND' && open.length === 0) return undefined;
    throw e;
  } finally {
    for (const m of open) m.close();
  }
}

/** A map's entries as hex strings. */
function readAll(m: BpfMap, keySize: number, valueSize: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of m.keys(keySize)) {
    const v = m.lookup(k, valueSize);
    if (v) out.set(hex(k), hex(v));
  }
  return out;
}

const numbers = (m: ReadonlyMap<string, string>): Map<string, number> =>
  new Map([...m].map(([k, v]) => [k, decodeU32(v)]));

/** Deletes the ct entries of the endpoints `gone` (policy_eps keys): an address reused later starts clean. */
function forget(ct: BpfMap, gone: ReadonlySet<string>): void {
  if (gone.size === 0) return;
  for (const k of ct.keys(CT_KEY_SIZE)) if (gone.has(hex(k.subarray(CT_ENDPOINT_AT, CT_ENDPOINT_AT + 4)))) ct.delete(k);
}

/**
 * What this process last wrote to each node's maps (by its folder): a partial sync starts from it
 * instead of reading 10,000 entries back and computing the previous input's content again. A full
 * sync (at start, after a failure) reads the maps.
 */
const lastWritten = new Map<string, Desired>();

function programme(m: PolicyMaps, dir: string, input: PolicyInput, previous: PolicyInput | undefined): number {
  const cached = previous ? lastWritten.get(dir) : undefined;
  lastWritten.delete(dir);
  const ipcacheNow = cached?.ipcache ?? readAll(m.ipcache, IPCACHE_KEY_SIZE, U32);
  const ids = numbers(ipcacheNow);
  const want = desired(input, ids);
  const had =
    cached ??
    (previous
      ? { ...desired(previous, ids), ipcache: ipcacheNow }
      : {
          eps: readAll(m.eps, 4, POLICY_EP_SIZE),
          policy: readAll(m.policy, POLICY_KEY_SIZE, U32),
          ipcache: ipcacheNow,
        });
  const maps = { ipcache: m.ipcache, policy: m.policy, eps: m.eps };
  const steps = plan(had, want);
  for (const s of steps)
    if (s.op === 'set') maps[s.map].update(unhex(s.key), unhex(s.value!));
    else maps[s.map].delete(unhex(s.key));
  forget(m.ct, new Set(steps.filter((s) => s.map === 'eps' && s.op === 'del').map((s) => s.key)));
  lastWritten.set(dir, want);
  return steps.length;
}

/** Each entry of the policy maps, in words (leftovers). */
function describe(m: PolicyMaps): string[] {
  const out: string[] = [];
  for (const k of readAll(m.eps, 4, POLICY_EP_SIZE).keys()) out.push(`policy_eps ${[...unhex(k)].join('.')}`);
  for (const [k, v] of readAll(m.ipcache, IPCACHE_KEY_SIZE, U32)) {
    const p = decodeIpcacheKey(k);
    out.push(`ipcache ${formatIPv4(p.base)}/${p.prefix} → identity ${decodeU32(v)}`);
  }
  for (const k of readAll(m.policy, POLICY_KEY_SIZE, U32).keys()) {
    const p = decodePolicyKey(k);
    out.push(
      `policy ${p.endpoint} ${p.direction} identity ${p.identity} proto ${p.protocol} port ${p.dport}/${p.prefixlen}`,
    );
  }
  const flows = m.ct.keys(CT_KEY_SIZE).length;
  if (flows > 0) out.push(`ct: ${flows} tracked flows`);
  return out;
}

export const ebpfPolicy: PolicyDesign = {
  name: 'ebpf',
  summary:
    "Cilium's layout in the ebpf kind's tc programs: ipcache identities, per-endpoint LPM policy, per-endpoint conntrack",
  requires: ['ebpf'],
  // its maps are keyed by IPv4 addresses and the programs check no IPv6 packet (datapath.c)
  ipFamilies: [4],

  async sync(node: PolicyNode, input: PolicyInput, previous: PolicyInput | undefined): Promise<PolicySyncReport> {
    const start = performance.now();
    const written = withMaps(node.dir, (m) => programme(m, node.dir, input, previous));
    if (written === undefined)
      throw new CnilabError(
        'NOT_FOUND',
        `the eBPF data path's policy maps are not pinned in ${node.dir}: is its agent running?`,
      );
    return { kind: previous ? 'partial' : 'full', ms: performance.now() - start, written };
  },

  async cleanup(node: PolicyNode): Promise<void> {
    lastWritten.delete(node.dir);
    withMaps(node.dir, (m) => {
      // endpoints first: from then on nothing is checked, so no allow removed after can deny
      for (const [map, size] of [
        [m.eps, 4],
        [m.policy, POLICY_KEY_SIZE],
        [m.ipcache, IPCACHE_KEY_SIZE],
        [m.ct, CT_KEY_SIZE],
      ] as const)
        for (const k of map.keys(size)) map.delete(k);
    });
  },

  async backend(): Promise<string> {
    const r = await run('bpftool', ['version'], { check: false }).catch(() => undefined);
    const v = r?.stdout.split('\n')[0]?.trim();
    return `eBPF tc programs (datapath.o: policy_eps, ipcache, policy, ct)${v ? ` + ${v}` : ''}`;
  },

  async leftovers(node: PolicyNode): Promise<string[]> {
    return withMaps(node.dir, describe) ?? [];
  },
};
