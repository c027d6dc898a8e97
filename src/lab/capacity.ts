/**
 * Will a lab of this topology fit on this machine? Checked before anything is created, from what a
 * lab costs (measured: docs/scale.md) and what the machine has left:
 *
 * - memory: each pod's namespace, veth pair, bridge port, routes and CNI files (kernel memory
 *   mostly), each compute node's daemons (a Node.js agent or Kuryr daemon, with OVS at most three
 *   processes) and namespace, and the controller and CLI — against MemAvailable, or the cgroup's
 *   memory.max less its use when that is lower;
 * - network namespaces: one per pod, per node and the switch — against user.max_net_namespaces;
 * - mounts: every named namespace is a bind mount under /run/netns — against fs.mount-max.
 *
 * File descriptors do not grow with pods (attaches run in a bounded pool; the controller holds a
 * connection per daemon), so they are not a limit here.
 */
import { readFileSync } from 'node:fs';
import { CnilabError } from '../lib/errors';
import { listNamedNetns } from '../lib/netns';
import type { Topology } from '../topology/schema';

const MIB = 2 ** 20;
/** Per pod: measured ~0.35 MiB for flannel-vxlan at 1,000 pods (docs/scale.md), with a margin. */
export const POD_BYTES = 0.5 * MIB;
/** Per compute node: its daemons' resident memory (a Node.js daemon ~50 MiB RSS, ~10 MiB PSS), namespace and links. */
export const NODE_BYTES = 64 * MIB;
/** The CLI, the controller, the switch. */
export const BASE_BYTES = 256 * MIB;

export interface LabNeeds {
  readonly memoryBytes: number;
  readonly namespaces: number;
}

/** What the machine has left for a lab. */
export interface MachineRoom {
  readonly memoryBytes: number;
  /** Where memoryBytes comes from, e.g. "MemAvailable". */
  readonly memorySource: string;
  /** Network namespaces that may still be created, and the limit's name. */
  readonly namespaces: number;
  readonly namespacesSource: string;
  /** Mounts that may still be made (each named namespace is one). */
  readonly mounts: number;
}

const computeNodes = (t: Topology): number => t.nodes.filter((n) => n.role === 'compute').length;

export function labNeeds(t: Topology): LabNeeds {
  const compute = computeNodes(t);
  return {
    memoryBytes: BASE_BYTES + compute * NODE_BYTES + t.pods.length * POD_BYTES,
    namespaces: t.pods.length + t.nodes.length + 1,
  };
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The memory this process's cgroup (v2) may still use, when it has a limit. */
function cgroupRoom(): number | undefined {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    if (!line) return undefined;
    const dir = `/sys/fs/cgroup${line.slice(3)}`;
    const max = readNumber(`${dir}/memory.max`); // "max" reads as NaN: no limit
    const current = readNumber(`${dir}/memory.current`);
    return max === undefined || current === undefined ? undefined : Math.max(0, max - current);
  } catch {
    return undefined;
  }
}

/** What this machine has left now (reads /proc and /sys; no side effects). */
export function machineRoom(): MachineRoom {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const available = Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1] ?? 0) * 1024;
  const cgroup = cgroupRoom();
  const named = listNamedNetns().length;
  const maxNetns = readNumber('/proc/sys/user/max_net_namespaces') ?? Infinity;
  const mountMax = readNumber('/proc/sys/fs/mount-max') ?? Infinity;
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).length;
  return {
    ...(cgroup !== undefined && cgroup < available
      ? { memoryBytes: cgroup, memorySource: "the cgroup's memory.max less its use" }
      : { memoryBytes: available, memorySource: 'MemAvailable' }),
    namespaces: Math.max(0, maxNetns - named),
    namespacesSource: `user.max_net_namespaces ${maxNetns} less ${named} named namespaces`,
    mounts: Math.max(0, mountMax - mounts),
  };
}

/** The field that sets the pod count: defaults.pods when every compute node has as many, else the largest node's. */
function podsField(t: Topology): string {
  const counts = new Map<string, number>();
  for (const n of t.nodes) if (n.role === 'compute') counts.set(n.name, 0);
  for (const p of t.pods) counts.set(p.node, (counts.get(p.node) ?? 0) + 1);
  const values = [...counts.values()];
  if (values.every((v) => v === values[0])) return values[0] === 0 ? 'topology.computeNodes' : 'topology.defaults.pods';
  const [largest] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
  return `topology.nodes.${largest}.pods`;
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;

/** Refuses (LAB_TOO_LARGE) a topology this machine cannot hold, with what it needs and what there is. */
export function refuseTooLarge(t: Topology, room: MachineRoom = machineRoom()): void {
  const need = labNeeds(t);
  const short: string[] = [];
  if (need.memoryBytes > room.memoryBytes)
    short.push(`~${gib(need.memoryBytes)} of memory (there is ${gib(room.memoryBytes)}: ${room.memorySource})`);
  if (need.namespaces > room.namespaces)
    short.push(`${need.namespaces} network namespaces (room for ${room.namespaces}: ${room.namespacesSource})`);
  else if (need.namespaces > room.mounts)
    short.push(`${need.namespaces} mounts under /run/netns (room for ${room.mounts}: fs.mount-max)`);
  if (short.length === 0) return;
  const compute = computeNodes(t);
  const perPod = Math.min(
    (room.memoryBytes - BASE_BYTES - compute * NODE_BYTES) / POD_BYTES,
    Math.min(room.namespaces, room.mounts) - t.nodes.length - 1,
  );
  const fit = Math.max(0, Math.floor(perPod / compute));
  throw new CnilabError(
    'LAB_TOO_LARGE',
    `${podsField(t)}: ${t.pods.length} pods on ${compute} compute nodes need ${short.join(' and ')}; at most ${fit} ` +
      `pods per node fit here — lower the pod or node count`,
  );
}
