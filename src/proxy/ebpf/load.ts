/**
 * Loading the Service proxy's object on a node: bpftool loads dist/bpf/service.o (the verifier
 * checks every program, the socket ones too) and pins programs and maps in the mode's folder,
 * which must be on a bpffs. Pins that are all there are reused: a restarted agent keeps the flows
 * the running pods depend on.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CnilabError } from '../../lib/errors';
import { run } from '../../lib/exec';
import { mountOf } from '../../lib/mounts';
import { BPF_SERVICE_BUILD, BPF_SERVICE_OBJECT } from '../../lib/paths';
import { verifierReason } from '../../lib/bpf';
import { pins } from './maps';

/** Why the proxy's object cannot load here, in one line; undefined when it was built. */
export function serviceBuildProblem(): string | undefined {
  if (existsSync(BPF_SERVICE_OBJECT)) return undefined;
  try {
    const r = JSON.parse(readFileSync(BPF_SERVICE_BUILD, 'utf8')) as { reason?: string };
    return r.reason ?? `${BPF_SERVICE_OBJECT} is missing`;
  } catch {
    return `${BPF_SERVICE_OBJECT} is missing: run npm run build (scripts/build-bpf.js)`;
  }
}

/** Whether every program and map is pinned in `dir`. */
export function servicePinned(dir: string): boolean {
  const p = pins(dir);
  return [...Object.values(p.progs), ...Object.values(p.maps)].every((f) => existsSync(f));
}

/** Every pin of the proxy in `dir` that exists (for leftovers). */
export function servicePins(dir: string): string[] {
  const p = pins(dir);
  return [...Object.values(p.progs), ...Object.values(p.maps)].filter((f) => existsSync(f));
}

export function removePins(dir: string): void {
  rmSync(join(dir, 'progs'), { recursive: true, force: true });
  rmSync(join(dir, 'maps'), { recursive: true, force: true });
}

/**
 * Pins the proxy's programs and maps in `dir` (in a bpffs), or reuses them when all are there.
 * Throws FEATURE_MISSING with the verifier's one-line reason when the kernel refuses a program.
 */
export async function loadService(dir: string, object = BPF_SERVICE_OBJECT): Promise<'loaded' | 'reused'> {
  // bpftool mounts a bpffs itself where a pin path is on none: never let it, anywhere
  if (mountOf(dir)?.fsType !== 'bpf')
    throw new CnilabError('INTERNAL', `${dir} is not on a bpffs: the eBPF proxy pins its maps in the lab's bpffs`);
  // libbpf turns a '.' of a pin path into '_': such a folder would not hold what it pinned
  if (dir.includes('.'))
    throw new CnilabError('INVALID_INPUT', `${dir}: the eBPF proxy's pin folder may not have a '.' in its path`);
  if (servicePinned(dir)) return 'reused';
  mkdirSync(dir, { recursive: true });
  const problem = object === BPF_SERVICE_OBJECT ? serviceBuildProblem() : undefined;
  if (problem) throw new CnilabError('FEATURE_MISSING', `the eBPF proxy cannot load: ${problem}`);
  removePins(dir);
  const r = await run('bpftool', ['prog', 'loadall', object, join(dir, 'progs'), 'pinmaps', join(dir, 'maps')], {
    check: false,
  }).catch((e: unknown) => {
    throw new CnilabError('FEATURE_MISSING', `the eBPF proxy cannot load: bpftool does not run (${String(e)})`);
  });
  if (r.code !== 0 || !servicePinned(dir)) {
    removePins(dir);
    throw new CnilabError('FEATURE_MISSING', `the eBPF proxy cannot load: ${verifierReason(r.stderr)}`);
  }
  return 'loaded';
}
