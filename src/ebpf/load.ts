/**
 * Loading the eBPF data path on a node: bpftool loads src/ebpf/bpf/datapath.o (the kernel's
 * verifier checks every program) and pins its programs and maps in the node's folder of the lab's
 * bpffs. Pins that are all there already are reused as they are — an agent's restart changes
 * nothing the running pods depend on.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pins } from '../cni/plugins/ebpf/maps';
import { CnilabError } from '../lib/errors';
import { run } from '../lib/exec';
import { mountOf } from '../lib/mounts';
import { BPF_BUILD, BPF_OBJECT } from '../lib/paths';
import { verifierReason } from '../lib/bpf';

export { verifierReason };

/** Why the data path cannot load here, in one line; undefined when the object was built. */
export function buildProblem(): string | undefined {
  if (existsSync(BPF_OBJECT)) return undefined;
  try {
    return (JSON.parse(readFileSync(BPF_BUILD, 'utf8')) as { reason?: string }).reason ?? `${BPF_OBJECT} is missing`;
  } catch {
    return `${BPF_OBJECT} is missing: run npm run build (scripts/build-bpf.js)`;
  }
}

/** Whether every program and map is pinned in `dir`. */
export function pinned(dir: string): boolean {
  const p = pins(dir);
  const maps = [p.endpoints, p.endpoints6, p.counters, p.policyEps, p.ipcache, p.policy, p.ct];
  return [...Object.values(p.progs), ...maps].every((f) => existsSync(f));
}

/**
 * Pins the data path's programs and maps in `dir` (a folder in a bpffs), or reuses them when all
 * are there. A partial set (a load cut short) is removed and loaded anew. Throws FEATURE_MISSING
 * with the verifier's one-line reason when the kernel refuses a program.
 */
export async function loadDatapath(dir: string, object = BPF_OBJECT): Promise<'loaded' | 'reused'> {
  // bpftool mounts a bpffs itself where a pin path is on none: never let it, anywhere
  if (mountOf(dir)?.fsType !== 'bpf')
    throw new CnilabError(
      'INTERNAL',
      `${dir} is not on a bpffs: the lab mounts one in its run folder before its agents start`,
    );
  if (pinned(dir)) return 'reused';
  mkdirSync(dir, { recursive: true });
  const problem = object === BPF_OBJECT ? buildProblem() : existsSync(object) ? undefined : `${object} is missing`;
  if (problem) throw new CnilabError('FEATURE_MISSING', `the eBPF data path cannot load: ${problem}`);
  rmSync(join(dir, 'progs'), { recursive: true, force: true });
  rmSync(join(dir, 'maps'), { recursive: true, force: true });
  const r = await run('bpftool', ['prog', 'loadall', object, join(dir, 'progs'), 'pinmaps', join(dir, 'maps')], {
    check: false,
  }).catch((e: unknown) => {
    throw new CnilabError(
      'FEATURE_MISSING',
      `the eBPF data path cannot load: bpftool does not run (${String(e)}); run scripts/setup.sh`,
    );
  });
  if (r.code !== 0 || !pinned(dir)) {
    rmSync(join(dir, 'progs'), { recursive: true, force: true });
    rmSync(join(dir, 'maps'), { recursive: true, force: true });
    throw new CnilabError('FEATURE_MISSING', `the eBPF data path cannot load: ${verifierReason(r.stderr)}`);
  }
  return 'loaded';
}
