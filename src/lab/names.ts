/**
 * Every namespace a lab creates is named `cnilab-<lab>.<what>`; lab names cannot hold a '.', so
 * the prefix alone tells which lab owns a namespace — `down --all` and leftover checks need no
 * state file. Links live inside those namespaces; the lab's files live under RUN_ROOT/<lab>.
 */
export const PREFIX = 'cnilab-';
export const RUN_ROOT = process.env.CNILAB_RUN_ROOT ?? '/run/cnilab';

export const nodeNetns = (lab: string, node: string): string => `${PREFIX}${lab}.${node}`;
export const podNetns = (lab: string, pod: string): string => `${PREFIX}${lab}.pod.${pod}`;
export const switchNetns = (lab: string): string => `${PREFIX}${lab}.switch`;
export const runDir = (lab: string): string => `${RUN_ROOT}/${lab}`;
/** A node's own folder in the lab: its processes' state, and its credential for the controller. */
export const nodeDir = (lab: string, node: string): string => `${runDir(lab)}/nodes/${node}`;

/** The lab a namespace belongs to, or undefined when it is not cnilab's. */
export function labOfNetns(ns: string): string | undefined {
  if (!ns.startsWith(PREFIX)) return undefined;
  const rest = ns.slice(PREFIX.length);
  const dot = rest.indexOf('.');
  return dot === -1 ? rest : rest.slice(0, dot);
}

/** The bridge inside the switch namespace that plays the physical switch. */
export const SWITCH_BRIDGE = 'br0';
/** Each node's underlay interface. */
export const UNDERLAY_IF = 'eth0';
