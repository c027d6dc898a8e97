/**
 * The tc side of the eBPF proxy: which interfaces of a node face its pods, and the programs on
 * them. A pod-facing interface is a veth of the node's namespace whose peer is in another
 * namespace (`ip -j link` shows a link_netnsid) and which is not the node's underlay, `eth0` (a
 * veth too in cnilab, to the lab's fabric): what a pod sends arrives on it, what it receives
 * leaves by it. Pods on macvlan or ipvlan have no such interface and are not served (docs).
 *
 * The proxy's filters take pref 1 (handle 1) of each hook, before an architecture's own filter
 * (pref 2: the ebpf architecture's from_pod), which cnilab replaces in place and the proxy must not
 * touch: the proxy translates and passes the packet on (TC_ACT_UNSPEC), the architecture forwards
 * it by its new address. Where an architecture's filter sits on the ingress of a node device that
 * is not a pod's (the ebpf architecture's underlay and tunnel devices: it delivers what arrives
 * there straight into a pod, past the pod's veth egress), svc_to_pod goes before it too, so that a
 * backend's reply is translated back first.
 */
import { closeSync } from 'node:fs';
import { objGet } from '../../lib/bpf';
import { ipJson, runIn } from '../../lib/netns';
import { withRtnl } from '../../lib/netlink/rtnl';
import { attachBpf, BPF_FILTER_PREF, detachBpf, listFilters, type TcHook } from '../../lib/netlink/tc';
import { pins, type ProgramName } from './maps';

export const PROXY_FILTER_PREF = 1;
const UNDERLAY = 'eth0';
const HOOKS: readonly [TcHook, ProgramName][] = [
  ['ingress', 'svc_from_pod'],
  ['egress', 'svc_to_pod'],
];
const PROGS: readonly ProgramName[] = ['svc_from_pod', 'svc_to_pod'];

interface Link {
  ifname: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
}

/** The node's pod-facing interfaces (see above). */
export async function podInterfaces(netns: string): Promise<string[]> {
  const links = await ipJson<Link[]>({ name: netns }, ['-d', 'link', 'show', 'type', 'veth']);
  return links
    .filter((l) => l.link_netnsid !== undefined && l.ifname !== UNDERLAY)
    .map((l) => l.ifname)
    .sort();
}

/** The proxy's filters in the namespace, as "dev hook program" (leftovers, tests). */
export async function proxyFilters(netns: string): Promise<string[]> {
  const links = await ipJson<Link[]>({ name: netns }, ['link', 'show']);
  return withRtnl({ name: netns }, (nl) =>
    links.flatMap((l) =>
      HOOKS.flatMap(([hook]) =>
        listFilters(nl, nl.index(l.ifname), hook)
          .filter((f) => f.pref === PROXY_FILTER_PREF && f.kind === 'bpf')
          .map((f) => `${l.ifname} ${hook} ${f.name ?? '?'}`),
      ),
    ),
  );
}

/**
 * Attaches both programs to every pod-facing interface that lacks them, and svc_to_pod to the
 * ingress of every other device where an architecture's filter is (see above); returns how many
 * filters it attached.
 */
export async function attachAll(netns: string, dir: string): Promise<number> {
  const devs = await podInterfaces(netns);
  if (devs.length === 0) return 0;
  const all = await ipJson<Link[]>({ name: netns }, ['link', 'show']);
  const p = pins(dir).progs;
  const fds = new Map(PROGS.map((prog) => [prog, objGet(p[prog])]));
  try {
    return withRtnl({ name: netns }, (nl) => {
      let attached = 0;
      const want = (dev: string, hook: TcHook, prog: ProgramName): void => {
        const index = nl.index(dev);
        const has = listFilters(nl, index, hook).some((f) => f.pref === PROXY_FILTER_PREF && f.name === prog);
        if (has) return;
        attachBpf(nl, index, dev, hook, fds.get(prog)!, prog, PROXY_FILTER_PREF);
        attached++;
      };
      for (const dev of devs) for (const [hook, prog] of HOOKS) want(dev, hook, prog);
      for (const { ifname } of all.filter((l) => !devs.includes(l.ifname))) {
        const theirs = listFilters(nl, nl.index(ifname), 'ingress').some(
          (f) => f.pref === BPF_FILTER_PREF && f.kind === 'bpf',
        );
        if (theirs) want(ifname, 'ingress', 'svc_to_pod');
      }
      return attached;
    });
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}

/**
 * Removes the proxy's filters from every interface of the namespace, and the clsact qdisc of an
 * interface where no filter is left (one an architecture still uses stays).
 */
export async function detachAll(netns: string): Promise<void> {
  const links = await ipJson<Link[]>({ name: netns }, ['link', 'show']);
  const emptied = withRtnl({ name: netns }, (nl) =>
    links
      .filter((l) => {
        const index = nl.index(l.ifname);
        const ours = HOOKS.some(([hook]) => listFilters(nl, index, hook).some((f) => f.pref === PROXY_FILTER_PREF));
        if (!ours) return false;
        for (const [hook] of HOOKS) detachBpf(nl, index, l.ifname, hook, PROXY_FILTER_PREF);
        return HOOKS.every(([hook]) => listFilters(nl, index, hook).length === 0);
      })
      .map((l) => l.ifname),
  );
  for (const dev of emptied)
    await runIn({ name: netns }, 'tc', ['qdisc', 'del', 'dev', dev, 'clsact'], { check: false });
}
