/**
 * A scratch node for the CNI plugin tests, shared so each test file stops carrying its own copy:
 * the node is a namespace of a test lab (`cnilab-LAB.host`, removed by the lab's teardown like any
 * lab's), plugins run there through a CNI runtime whose cache lives in the lab's folder, and pods
 * are namespaces of the lab with the arguments a runtime attaches them by.
 */
import { join } from 'node:path';
import { CniRuntime } from '../../src/cni/runtime';
import { addNetns } from '../../src/lib/netns';
import { CNI_BIN_DIR } from '../../src/lib/paths';
import { nodeNetns, podNetns, runDir } from '../../src/lab/names';

export interface ScratchPod {
  readonly ns: string;
  readonly rt: { containerId: string; netns: string; ifName: string };
}

export interface ScratchRuntimeOptions {
  /** The node whose namespace the plugins run in. Default: "host". */
  readonly node?: string;
  /** Where plugins are found, in order. Default: cnilab's (dist/cni-bin). */
  readonly cniPath?: readonly string[];
  /** The cache folder, under the lab's. Default: "cache". */
  readonly cache?: string;
  /** The plugins' environment. Default: PATH alone, as a container runtime passes. */
  readonly env?: NodeJS.ProcessEnv;
}

/** A CNI runtime calling plugins in lab `lab`'s scratch node. */
export function scratchRuntime(lab: string, o: ScratchRuntimeOptions = {}): CniRuntime {
  return new CniRuntime({
    cniPath: [...(o.cniPath ?? [CNI_BIN_DIR])],
    cacheDir: join(runDir(lab), o.cache ?? 'cache'),
    hostNetns: { name: nodeNetns(lab, o.node ?? 'host') },
    env: o.env ?? { PATH: process.env.PATH },
  });
}

/** Pod `name` of lab `lab`: its namespace made, attached as container `containerId` on eth0. */
export async function scratchPod(lab: string, name: string, containerId: string): Promise<ScratchPod> {
  const ns = podNetns(lab, name);
  await addNetns(ns);
  return { ns, rt: { containerId, netns: `/run/netns/${ns}`, ifName: 'eth0' } };
}

/** Numbered pods of lab `lab`: pod `${prefix}N`, container `${idPrefix}-N`, N = 1, 2, … */
export function podSeries(lab: string, prefix: string, idPrefix: string): () => Promise<ScratchPod> {
  let seq = 0;
  return () => {
    seq++;
    return scratchPod(lab, `${prefix}${seq}`, `${idPrefix}-${seq}`);
  };
}
