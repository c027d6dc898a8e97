/**
 * The `ebpf` feature this kind adds to `cnilab doctor` (its control plane's `probes`), probed for
 * real: the object built, bpftool present, the kernel's verifier accepting every program (loaded
 * into a throwaway bpffs in cnilab's run root, never the host's /sys/fs/bpf) and tc attaching one
 * to a veth of the doctor's throwaway namespace. A failure is the one-line reason the ebpf
 * architectures then skip with.
 */
import { closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { objGet } from '../lib/bpf';
import { messageOf } from '../lib/errors';
import { run } from '../lib/exec';
import { mountBpffs, unmountUnder } from '../lib/mounts';
import { withRtnl } from '../lib/netlink/rtnl';
import { queueNetkitAdd } from '../lib/netlink/netkit';
import { release } from 'node:os';
import { attachBpf } from '../lib/netlink/tc';
import { RUN_ROOT } from '../lab/names';
import { pins, PROGRAMS } from '../cni/plugins/ebpf/maps';
import { buildProblem, loadDatapath } from './load';
import type { FeatureProbe } from '../doctor/features';

export interface EbpfProbe {
  readonly ok: boolean;
  readonly detail: string;
}

/** Loads the data path and attaches from_pod to `dev` in namespace `ns`; everything it made is gone after. */
export async function probeEbpf(ns: string, dev: string): Promise<EbpfProbe> {
  const problem = buildProblem();
  if (problem) return { ok: false, detail: problem };
  const bpftool = await run('bpftool', ['version'], { check: false }).catch(() => undefined);
  if (!bpftool || bpftool.code !== 0)
    return { ok: false, detail: 'bpftool is not installed (run scripts/setup.sh: it installs bpftool)' };
  const version = /bpftool v(\S+)/.exec(bpftool.stdout)?.[1] ?? '?';
  // a folder `cnilab down --all` removes (mount included) should the doctor be killed here
  const root = join(RUN_ROOT, `doctor-${process.pid}`);
  const dir = join(root, 'bpf');
  try {
    await mountBpffs(dir);
    await loadDatapath(join(dir, 'probe'));
    const fd = objGet(pins(join(dir, 'probe')).progs.from_pod);
    try {
      withRtnl({ name: ns }, (nl) => attachBpf(nl, nl.index(dev), dev, 'ingress', fd, 'from_pod'));
    } finally {
      closeSync(fd);
    }
    return { ok: true, detail: `programs ${PROGRAMS.join(', ')} verified and attached to a veth (bpftool ${version})` };
  } catch (e) {
    return { ok: false, detail: messageOf(e).replace(/^the eBPF data path cannot load: /, '') };
  } finally {
    await unmountUnder(root);
    rmSync(root, { recursive: true, force: true });
  }
}

export const ebpfProbe: FeatureProbe = { feature: 'ebpf', probe: probeEbpf };

/**
 * Whether this kernel makes netkit pairs (Linux 6.7+ with CONFIG_NETKIT): one is made in L3 mode in
 * the doctor's throwaway namespace, over netlink (iproute2 before 6.7 cannot), and deleted.
 */
export async function probeNetkit(ns: string): Promise<EbpfProbe> {
  const name = 'pnk0';
  try {
    withRtnl({ name: ns }, (nl) => queueNetkitAdd(nl, { name, peer: { name: 'pnk1' }, mtu: 1500 }));
  } catch (e) {
    const m = messageOf(e);
    return {
      ok: false,
      detail: /EOPNOTSUPP|Operation not supported/.test(m)
        ? `this kernel (${release()}) has no netkit devices (Linux 6.7+ with CONFIG_NETKIT; Debian's 6.12 has it)`
        : `a netkit pair cannot be made: ${m}`,
    };
  }
  await run('ip', ['-n', ns, 'link', 'del', name], { check: false });
  return { ok: true, detail: 'a netkit pair in L3 mode made and deleted (over netlink)' };
}

export const netkitProbe: FeatureProbe = { feature: 'netkit', probe: probeNetkit };
