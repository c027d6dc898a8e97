/**
 * The ipvs mode: kube-proxy's IPVS proxier (rules.ts). A full sync: kube-ipvs0 made if missing and
 * its addresses reset, the ipsets restored, the masquerade chains restored (iptables mode's
 * tables.ts) with their jumps, the IPVS table cleared and restored (`ipvsadm -C`, `ipvsadm -R`).
 * A partial sync: the addresses, set entries and virtual/real servers that changed, the IPVS
 * changes as add/delete commands fed to one `ipvsadm -R`. `ms` counts all of it.
 */
import { run } from '../../lib/exec';
import { ipBatch } from '../../lib/netns';
import type { ProxyMode, ProxyNode } from '../mode';
import { nodeRun, timed } from '../node-run';
import { planSync } from '../plan';
import { ensureJumps, JUMPS, leftoversIn, removeAll, restore } from '../iptables/tables';
import { DEVICE, ipvsScripts, SETS } from './rules';

/** The jumps the IPVS mode's chains need: nat's three and filter's KUBE-FORWARD. */
const IPVS_JUMPS = JUMPS.filter((j) => j.table === 'nat' || j.to === 'KUBE-FORWARD');

/**
 * The node's sysctls kube-proxy's IPVS proxier sets (in the node's namespace: these are per
 * namespace): conntrack for IPVS connections, so that netfilter sees a reply as ESTABLISHED rather
 * than INVALID (KUBE-FORWARD drops INVALID) and masquerade works; connections to a removed real
 * server expire; kube-ipvs0's addresses answer no ARP.
 */
const SYSCTLS = [
  'net.ipv4.vs.conntrack=1',
  'net.ipv4.vs.expire_nodest_conn=1',
  'net.ipv4.vs.expire_quiescent_template=1',
  'net.ipv4.conf.all.arp_ignore=1',
  'net.ipv4.conf.all.arp_announce=2',
];

const hasDevice = async (node: Pick<ProxyNode, 'netns'>): Promise<boolean> =>
  (await nodeRun(node, 'ip', ['link', 'show', DEVICE], { check: false })).code === 0;

export const ipvsMode: ProxyMode = {
  name: 'ipvs',
  translates: 'netfilter',
  summary: "kube-proxy's IPVS mode: ClusterIPs on kube-ipvs0, a virtual server per port (rr, NAT), ipset masquerade",
  requires: ['ip_vs', 'iptables'],
  async sync(node, input, previous) {
    const plan = planSync(input, previous);
    const s = ipvsScripts(input, plan);
    const ns = { name: node.netns };
    const { ms } = await timed(async () => {
      if (!(await hasDevice(node))) await ipBatch(ns, [['link', 'add', DEVICE, 'type', 'dummy']]);
      if (s.iptables !== undefined) await nodeRun(node, 'sysctl', ['-q', '-w', ...SYSCTLS]);
      await ipBatch(ns, s.addresses);
      await nodeRun(node, 'ipset', ['restore'], { input: s.ipset });
      if (s.iptables !== undefined) {
        await restore(node, s.iptables);
        await ensureJumps(node, IPVS_JUMPS);
        await nodeRun(node, 'ipvsadm', ['-C']);
      }
      await nodeRun(node, 'ipvsadm', ['-R'], { input: s.ipvsadm });
    });
    return { kind: plan.kind, ms, written: s.written };
  },
  async cleanup(node) {
    await nodeRun(node, 'ipvsadm', ['-C'], { check: false }).catch(() => undefined);
    await removeAll(node);
    for (const set of SETS) await nodeRun(node, 'ipset', ['destroy', set], { check: false }).catch(() => undefined);
    if (await hasDevice(node)) await nodeRun(node, 'ip', ['link', 'del', DEVICE]);
  },
  async backend() {
    const v = await run('ipvsadm', ['--version'], { check: false }).catch(() => undefined);
    return v ? (/ipvsadm (v\S+)/.exec(v.stdout)?.[0] ?? v.stdout.trim()) : 'ipvsadm not installed';
  },
  async leftovers(node) {
    const out = await leftoversIn(node);
    const sets = await nodeRun(node, 'ipset', ['list', '-n'], { check: false }).catch(() => undefined);
    out.push(...(sets?.stdout.split('\n').filter((n) => n.startsWith('KUBE-')) ?? []).map((n) => `ipset ${n}`));
    if (await hasDevice(node)) out.push(`link ${DEVICE}`);
    const vs = await nodeRun(node, 'ipvsadm', ['-S', '-n'], { check: false }).catch(() => undefined);
    if (vs?.code === 0)
      out.push(
        ...vs.stdout
          .split('\n')
          .filter((l) => l.startsWith('-A'))
          .map((l) => `ipvs ${l}`),
      );
    return out;
  },
};
