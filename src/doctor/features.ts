/**
 * What this machine can do, probed for real: each kernel feature by creating the device in a
 * throwaway namespace (never in the root namespace), each tool by running it. A kind of
 * architecture that needs a feature of its own brings its probe (`ControlPlane.probes`); the
 * architecture registry hands it to `kindProbes`, and the doctor runs it after its own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib/exec';
import { CNI_BIN_DIR } from '../lib/paths';
import { addNetns, deleteNetns, ip, runIn } from '../lib/netns';
import { messageOf } from '../lib/errors';
import { PREFIX } from '../lab/names';
import { Registry } from '../lib/registry';
import { BIG_TCP_SIZE, bigTcpDiffers, setBigTcp } from '../lib/netlink/big-tcp';
import { withRtnl } from '../lib/netlink/rtnl';

export const FEATURES = [
  'root',
  'iproute2',
  'iperf3',
  'sockperf',
  'iperf2',
  'bridge',
  'veth',
  'big-tcp',
  'vxlan',
  'macvlan',
  'tun',
  'tun-vnet-hdr',
  'vlan',
  'ipvlan',
  'openvswitch',
  'ipip',
  'tbf',
  'htb',
  'netem',
  'openvswitch-switch',
  'bird',
  'ethtool',
  'iptables',
  'nftables',
  'tcpdump',
  'ip_vs',
  'reference-cni-plugins',
  'cnilab-cni-plugins',
] as const;
/** A feature the doctor itself probes. */
export type Feature = (typeof FEATURES)[number];

export interface FeatureCheck {
  /** A `Feature`, or the feature a kind's probe adds. */
  readonly feature: string;
  readonly ok: boolean;
  /** A version for tools; why it is missing otherwise. */
  readonly detail: string;
}

/** Every feature probed: the doctor's own, then the kinds' (`kindProbes`), in that order. */
export type FeatureReport = Readonly<Record<Feature, FeatureCheck>> & Readonly<Record<string, FeatureCheck>>;

/** A feature a kind of architecture adds to the doctor, with its probe. */
export interface FeatureProbe {
  readonly feature: string;
  /** Probes inside the doctor's throwaway namespace `ns`, on its veth `dev`; leaves nothing behind. */
  probe(ns: string, dev: string): Promise<{ readonly ok: boolean; readonly detail: string }>;
}

/** The kinds' probes by feature, filled by the architecture registry (arch/index.ts) as it loads. */
export const kindProbes = new Registry<FeatureProbe>('feature probe');

const LINKS: Partial<Record<Feature, string[]>> = {
  bridge: ['link', 'add', 'name', 'pbr', 'type', 'bridge'],
  veth: ['link', 'add', 'name', 'pv0', 'type', 'veth', 'peer', 'name', 'pv1'],
  vxlan: ['link', 'add', 'name', 'pvx', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'dev', 'pbase'],
  macvlan: ['link', 'add', 'link', 'pbase', 'name', 'pmv', 'type', 'macvlan', 'mode', 'bridge'],
  tun: ['tuntap', 'add', 'name', 'ptun', 'mode', 'tun'],
  'tun-vnet-hdr': ['tuntap', 'add', 'name', 'ptunv', 'mode', 'tun', 'vnet_hdr'],
  vlan: ['link', 'add', 'link', 'pbase', 'name', 'pvl', 'type', 'vlan', 'id', '42'],
  // A device cannot be the lower of macvlans and ipvlans at once (EBUSY): the veth's other end.
  ipvlan: ['link', 'add', 'link', 'pbase1', 'name', 'pipv', 'type', 'ipvlan', 'mode', 'l2'],
};

/**
 * Queueing disciplines the link emulation uses, tried on a veth of the throwaway namespace: `tc qdisc replace …
 * root`.
 */
export const QDISCS = {
  tbf: ['tbf', 'rate', '1mbit', 'burst', '32kbit', 'latency', '50ms'],
  htb: ['htb'],
  netem: ['netem', 'delay', '1ms'],
} as const;
type Qdisc = keyof typeof QDISCS;

/** Why a qdisc is missing, naming its module: what a refused link option says too. */
export const qdiscMissing = (q: Qdisc): string =>
  `needs the kernel's sch_${q} qdisc module, which this kernel cannot load (modprobe sch_${q})`;

const WHY: Partial<Record<Feature, string>> = {
  vlan: 'the kernel cannot create 802.1Q VLAN devices (module 8021q)',
  ipvlan: 'the kernel cannot create ipvlan devices',
  vxlan: 'the kernel cannot create vxlan devices',
  macvlan: 'the kernel cannot create macvlan devices',
  tun: 'the kernel cannot create TUN devices (/dev/net/tun)',
  'tun-vnet-hdr': 'the kernel cannot create TUN devices with virtio-net headers (IFF_VNET_HDR, for offloads)',
  bridge: 'the kernel cannot create bridges',
  veth: 'the kernel cannot create veth pairs',
};

async function tool(
  feature: Feature,
  command: string,
  args: string[],
  parse: (out: string) => string,
): Promise<FeatureCheck> {
  try {
    const r = await run(command, args, { check: false, timeoutMs: 5000 });
    return { feature, ok: true, detail: parse(r.stdout + r.stderr) };
  } catch (e) {
    return { feature, ok: false, detail: `${command} is not installed (run scripts/setup.sh): ${messageOf(e)}` };
  }
}

/** Whether the kernel's openvswitch module can be loaded (else OVS runs its userspace datapath). */
export async function openvswitch(): Promise<FeatureCheck> {
  const r = await run('modprobe', ['-n', '-q', 'openvswitch'], { check: false }).catch(() => undefined);
  const ok = r?.code === 0;
  return {
    feature: 'openvswitch',
    ok,
    detail: ok
      ? 'kernel module available'
      : 'no openvswitch kernel module (OVS can still run with the userspace netdev datapath)',
  };
}

/**
 * Whether the kernel has IP-in-IP (module ipip, for calico-ipip), asked without loading it: loading
 * it makes the fallback device `tunl0` in every namespace, the host's too, so only a lab that uses
 * it loads it.
 */
export async function ipipFeature(): Promise<FeatureCheck> {
  const loaded = existsSync('/sys/module/ipip');
  const r = loaded ? undefined : await run('modprobe', ['-n', '-q', 'ipip'], { check: false }).catch(() => undefined);
  const ok = loaded || r?.code === 0;
  return {
    feature: 'ipip',
    ok,
    detail: loaded
      ? 'kernel module loaded'
      : ok
        ? 'kernel module available (loading it, a lab that uses IP-in-IP makes tunl0 in every namespace)'
        : 'the kernel has no IP-in-IP module (ipip)',
  };
}

/**
 * The reference CNI plugins (Debian's containernetworking-plugins): the versions their bridge
 * speaks, asked inside namespace `ns` when given (VERSION changes nothing, but no plugin of a probe
 * runs in the host's namespace when it need not).
 */
export async function referencePlugins(dir = '/usr/lib/cni', ns?: string): Promise<FeatureCheck> {
  try {
    const r = await runIn(ns === undefined ? undefined : { name: ns }, `${dir}/bridge`, [], {
      env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' },
      input: '{"cniVersion":"0.4.0"}',
      check: false,
      timeoutMs: 5000,
    });
    const v = (JSON.parse(r.stdout) as { supportedVersions: string[] }).supportedVersions;
    return { feature: 'reference-cni-plugins', ok: true, detail: `${dir}, CNI ${v[0]}–${v[v.length - 1]}` };
  } catch (e) {
    return {
      feature: 'reference-cni-plugins',
      ok: false,
      detail:
        `no reference CNI plugins in ${dir} (run scripts/setup.sh; the conformance tests and bench:cni need ` +
        `them): ${messageOf(e)}`,
    };
  }
}

/**
 * cnilab's own plugin executables (dist/cni-bin) and the runtime they start under: one Bun-compiled
 * multi-call binary when scripts/setup.sh installed Bun (see scripts/make-cni-bin.js), else Node. Asked for VERSION
 * inside namespace `ns` when given; the detail names the runtime and one start's time.
 */
export async function cnilabPlugins(ns?: string, dir = CNI_BIN_DIR): Promise<FeatureCheck> {
  let runtime: { runtime: string; version: string; path: string; build?: string };
  try {
    runtime = JSON.parse(readFileSync(join(dir, '.runtime.json'), 'utf8')) as typeof runtime;
  } catch {
    return { feature: 'cnilab-cni-plugins', ok: false, detail: `no plugins built in ${dir}: run npm run build` };
  }
  try {
    const t0 = performance.now();
    const r = await runIn(ns === undefined ? undefined : { name: ns }, join(dir, 'bridge'), [], {
      env: { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' },
      input: '{"cniVersion":"1.0.0"}',
      timeoutMs: 5000,
    });
    const ms = performance.now() - t0;
    const v = (JSON.parse(r.stdout) as { supportedVersions: string[] }).supportedVersions;
    const slow =
      runtime.runtime === 'node'
        ? '; Bun is not installed, so each plugin start costs Node’s ~70 ms (run scripts/setup.sh)'
        : '';
    return {
      feature: 'cnilab-cni-plugins',
      ok: true,
      detail:
        `${dir}: ${runtime.build ?? 'scripts'} on ${runtime.runtime} ${runtime.version} (${runtime.path}), ` +
        `CNI ${v[0]}–${v[v.length - 1]}, VERSION in ${ms.toFixed(0)} ms${slow}`,
    };
  } catch (e) {
    return {
      feature: 'cnilab-cni-plugins',
      ok: false,
      detail:
        `cnilab's plugins in ${dir} do not start under ${runtime.runtime} ` +
        `(${runtime.path}): ${messageOf(e)}; run scripts/setup.sh and npm run build`,
    };
  }
}

/**
 * Whether IPVS (the kernel's ip_vs, for the ipvs proxy mode) works here: its module is loaded or
 * loadable, and `ipvsadm` is installed; where the module is loaded already, `ipvsadm` lists the
 * virtual servers of namespace `ns` (a throwaway one). A probe never loads the module: every
 * `cnilab up` probes, and a lab without the ipvs proxy must not change the host's kernel.
 */
export async function ipvsFeature(ns?: string): Promise<FeatureCheck> {
  const loaded = existsSync('/sys/module/ip_vs');
  const loadable =
    loaded || (await run('modprobe', ['-n', '-q', 'ip_vs'], { check: false }).catch(() => undefined))?.code === 0;
  if (!loadable) return { feature: 'ip_vs', ok: false, detail: 'the kernel has no IPVS module (ip_vs)' };
  if (ns === undefined) return { feature: 'ip_vs', ok: false, detail: 'not probed: needs root and iproute2' };
  if (!loaded)
    return existsSync('/usr/sbin/ipvsadm')
      ? {
          feature: 'ip_vs',
          ok: true,
          detail: 'kernel module available (loaded by the first ipvs proxy), ipvsadm installed',
        }
      : { feature: 'ip_vs', ok: false, detail: 'ipvsadm is not installed (run scripts/setup.sh)' };
  const r = await runIn({ name: ns }, 'ipvsadm', ['-L', '-n'], { check: false, timeoutMs: 5000 }).catch((e) => ({
    code: -1,
    stderr: messageOf(e),
  }));
  return r.code === 0
    ? { feature: 'ip_vs', ok: true, detail: `kernel module ${loaded ? 'loaded' : 'available'}, ipvsadm runs` }
    : { feature: 'ip_vs', ok: false, detail: `ipvsadm -L -n fails (run scripts/setup.sh): ${r.stderr.trim()}` };
}

/**
 * Whether BIG TCP can be set here (docs/big-tcp.md): a veth pair made in the doctor's throwaway namespace `ns`, its
 * GSO/GRO sizes, IPv6's and IPv4's, raised to BIG_TCP_SIZE over netlink and read back, the pair deleted. IPv6 BIG
 * TCP came in Linux 5.19, IPv4's in 6.3: a kernel between has the one and not the other, and is reported so.
 */
export async function bigTcpFeature(ns?: string): Promise<FeatureCheck> {
  const feature = 'big-tcp';
  if (ns === undefined) return { feature, ok: false, detail: 'not probed: needs root and iproute2' };
  const made = await ip({ name: ns }, ['link', 'add', 'name', 'pbt0', 'type', 'veth', 'peer', 'name', 'pbt1'], {
    check: false,
  });
  if (made.code !== 0) return { feature, ok: false, detail: `no veth pair to try it on: ${made.stderr.trim()}` };
  try {
    const off = withRtnl({ name: ns }, (nl) => {
      const index = nl.index('pbt0');
      setBigTcp(nl, index, 'pbt0');
      nl.flush();
      return bigTcpDiffers(nl.link(index)!);
    });
    return off
      ? {
          feature,
          ok: false,
          detail:
            `the kernel keeps a veth's sizes below BIG TCP's (${off.replace(/^pbt0 has /, '')}): IPv6 BIG TCP needs ` +
            'Linux 5.19, IPv4 BIG TCP 6.3',
        }
      : {
          feature,
          ok: true,
          detail: `veth: GSO/GRO sizes of ${BIG_TCP_SIZE} bytes for IPv6 and IPv4 (gso_max_size, gro_max_size, gso_ipv4_max_size, gro_ipv4_max_size)`,
        };
  } catch (e) {
    return {
      feature,
      ok: false,
      detail: `the kernel refuses a veth's BIG TCP sizes (IPv6 needs Linux 5.19, IPv4 6.3): ${messageOf(e)}`,
    };
  } finally {
    await ip({ name: ns }, ['link', 'del', 'pbt0'], { check: false });
  }
}

export async function probeFeatures(): Promise<FeatureReport> {
  const isRoot = process.getuid?.() === 0;
  const checks: FeatureCheck[] = [
    {
      feature: 'root',
      ok: isRoot,
      detail: isRoot ? 'running as root' : 'cnilab needs root to create network namespaces; run it with sudo',
    },
    await tool('iproute2', 'ip', ['-V'], (o) => /iproute2-([\w.]+)/.exec(o)?.[1] ?? o.trim()),
    await tool('iperf3', 'iperf3', ['--version'], (o) => /iperf (\S+)/.exec(o)?.[1] ?? o.trim()),
    await tool('sockperf', 'sockperf', ['--version'], (o) => /version (\S+?)(?:-no\.git)?$/m.exec(o)?.[1] ?? o.trim()),
    // iperf 2 (Debian's `iperf`): the rtt test's bounceback round trips, in both families
    await tool('iperf2', 'iperf', ['-v'], (o) => /iperf version (\S+)/.exec(o)?.[1] ?? o.trim()),
    await openvswitch(),
    await ipipFeature(),
    await tool(
      'openvswitch-switch',
      'ovs-vswitchd',
      ['--version'],
      (o) => /\(Open vSwitch\) (\S+)/.exec(o)?.[1] ?? o.trim(),
    ),
    await tool('bird', 'bird', ['--version'], (o) => /BIRD version (\S+)/.exec(o)?.[1] ?? o.trim()),
    await tool('ethtool', 'ethtool', ['--version'], (o) => /version (\S+)/.exec(o)?.[1] ?? o.trim()),
    await tool('iptables', 'iptables', ['--version'], (o) => /v([\d.]+ \(\w+\))/.exec(o)?.[1] ?? o.trim()),
    await tool('nftables', 'nft', ['--version'], (o) => /v([\d.]+)/.exec(o)?.[1] ?? o.trim()),
    // the wire proof of an encrypted architecture captures on the lab's switch (lab/wire-proof.ts)
    await tool('tcpdump', 'tcpdump', ['--version'], (o) => /tcpdump version (\S+)/.exec(o)?.[1] ?? o.trim()),
  ];
  const linkFeatures = Object.keys(LINKS) as Feature[];
  const qdiscs = Object.keys(QDISCS) as Qdisc[];
  if (!isRoot || !checks[1]!.ok) {
    for (const f of [...linkFeatures, ...qdiscs])
      checks.push({ feature: f, ok: false, detail: 'not probed: needs root and iproute2' });
    checks.push(await ipvsFeature());
    checks.push(await bigTcpFeature());
    checks.push(await referencePlugins());
    checks.push(await cnilabPlugins());
    for (const f of kindProbes.names())
      checks.push({ feature: f, ok: false, detail: 'not probed: needs root and iproute2' });
  } else {
    const ns = `${PREFIX}doctor-${process.pid}`;
    try {
      await addNetns(ns);
      // The lower device vxlan, macvlan, vlan and ipvlan are created on.
      await ip({ name: ns }, ['link', 'add', 'name', 'pbase', 'type', 'veth', 'peer', 'name', 'pbase1'], {
        check: false,
      });
      for (const f of linkFeatures) {
        const r = await ip({ name: ns }, LINKS[f]!, { check: false });
        checks.push({
          feature: f,
          ok: r.code === 0,
          detail: r.code === 0 ? 'supported' : `${WHY[f]}: ${r.stderr.trim()}`,
        });
      }
      for (const q of qdiscs) {
        const r = await runIn({ name: ns }, 'tc', ['qdisc', 'replace', 'dev', 'pbase', 'root', ...QDISCS[q]], {
          check: false,
        });
        checks.push({
          feature: q,
          ok: r.code === 0,
          detail: r.code === 0 ? 'supported' : `${qdiscMissing(q)}: ${r.stderr.trim()}`,
        });
      }
      checks.push(await ipvsFeature(ns));
      checks.push(await bigTcpFeature(ns));
      checks.push(await referencePlugins(undefined, ns));
      checks.push(await cnilabPlugins(ns));
      for (const f of kindProbes.names()) checks.push({ feature: f, ...(await kindProbes.get(f).probe(ns, 'pbase')) });
    } finally {
      await deleteNetns(ns);
    }
  }
  const names = [...FEATURES, ...kindProbes.names()];
  return Object.fromEntries(names.map((f) => [f, checks.find((c) => c.feature === f)!])) as FeatureReport;
}

/**
 * The first missing feature among `needs` (the doctor's own or the kinds'), as a one-line reason,
 * or undefined when all are there.
 */
export function missingReason(report: FeatureReport, needs: readonly string[]): string | undefined {
  const miss = needs
    .map((f) => report[f] ?? { feature: f, ok: false, detail: 'no probe of it ran (no registered kind brings one)' })
    .find((c) => !c.ok);
  return miss ? `needs ${miss.feature}: ${miss.detail}` : undefined;
}
