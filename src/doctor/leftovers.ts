/**
 * What cnilab may have left on this machine, found without trusting any state file: labs (their
 * namespaces and run folders, by cnilab's prefix) and links in the namespace the doctor runs in —
 * the host's root namespace, where nothing of a lab belongs. A link counts as cnilab's only when it
 * provably is: a cnilab CNI plugin tags what it makes in the host namespace with an alias
 * (`cni:NETWORK` for a bridge, `cni:NETWORK:CONTAINERID:IFNAME` for a pod's host end). A `cni0`
 * without that tag is only mentioned: it is the reference bridge plugin's default bridge, and on a
 * real node it belongs to the cluster's CNI.
 */
import { ipJson } from '../lib/netns';
import { parseAlias, type LinkInfo } from '../cni/plugins/common/iface';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mountsUnder } from '../lib/mounts';
import { allLabs } from '../lab/teardown';
import { runDir } from '../lab/names';

export interface Leftover {
  /** What it is: `lab` (namespaces and files of a lab), or `link` (in this namespace). */
  readonly kind: 'lab' | 'link';
  readonly name: string;
  /** `cnilab`: provably made by cnilab; `unknown`: possibly another program's. */
  readonly owner: 'cnilab' | 'unknown';
  readonly detail: string;
  /** The command that removes it (for `unknown`: once you have checked it is not in use). */
  readonly remove: string;
}

/** Links in this namespace that cnilab's plugins made (by their alias), and a `cni0` that may be anyone's. */
export async function rootLinkLeftovers(): Promise<Leftover[]> {
  const out: Leftover[] = [];
  for (const l of await ipJson<LinkInfo[]>(undefined, ['-d', 'link', 'show'])) {
    const tag = parseAlias(l.ifalias);
    const kind = l.linkinfo?.info_kind ?? 'device';
    if (tag) {
      const what = tag.containerId
        ? `host end (${kind}) of container ${tag.containerId}'s ${tag.ifName} on CNI network ${tag.network}`
        : `${kind} of CNI network ${tag.network}`;
      out.push({
        kind: 'link',
        name: l.ifname,
        owner: 'cnilab',
        detail: `${what}, made by a cnilab CNI plugin in this namespace (alias ${l.ifalias})`,
        remove: `ip link del ${l.ifname}`,
      });
    } else if (l.ifname === 'cni0') {
      out.push({
        kind: 'link',
        name: l.ifname,
        owner: 'unknown',
        detail:
          `${kind} without cnilab's tag: possibly another CNI's (the reference bridge plugin's default ` +
          `name; on a Kubernetes node the cluster's) — check before removing`,
        remove: `ip link del cni0`,
      });
    }
  }
  return out;
}

/** Files under `dir`, recursively (pins in a bpffs). */
function countFiles(dir: string): number {
  try {
    return readdirSync(dir, { withFileTypes: true }).reduce(
      (n, e) => n + (e.isDirectory() ? countFiles(join(dir, e.name)) : 1),
      0,
    );
  } catch {
    return 0;
  }
}

/** What a lab's bpffs still holds (the eBPF architectures' pinned programs and maps), as a clause. */
function bpffsLeft(lab: string): string {
  const fs = mountsUnder(runDir(lab)).filter((m) => m.fsType === 'bpf');
  return fs.map((m) => `; a bpffs at ${m.path} holding ${countFiles(m.path)} pinned objects`).join('');
}

/** Everything cnilab left: labs first, then links in this namespace. */
export async function findLeftovers(): Promise<Leftover[]> {
  const labs: Leftover[] = allLabs().map((lab) => ({
    kind: 'lab',
    name: lab,
    owner: 'cnilab',
    detail: `lab ${lab}: namespaces cnilab-${lab}.* or its run folder${bpffsLeft(lab)}`,
    remove: `cnilab down --lab ${lab}`,
  }));
  return [...labs, ...(await rootLinkLeftovers())];
}
