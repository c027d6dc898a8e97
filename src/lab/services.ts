/**
 * The lab's Services, kind-agnostic: the API server in the lab's controller (started here when the
 * architecture's control plane runs none), the pods registered with their labels once attached
 * (the lab's runtime is their kubelet), the topology's Services created, and — with a proxy mode
 * (--proxy) — a proxy agent on every compute node, ready once it has programmed what the API
 * server holds. Nodes that join and leave get and lose theirs the same way (nodes.ts).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { apiRequest, createServices, registerPods } from '../apiserver/client';
import { apiserverArgs, DEFAULT_SERVICE_CIDR } from '../apiserver/service';
import { CnilabError } from '../lib/errors';
import { ip, ipBatch, ipJson } from '../lib/netns';
import { architectures } from '../arch';
import { proxyModes } from '../proxy';
import { policyDesign, startPolicyAgents } from './policy';
import { SYNCED_FILE } from '../proxy/agent/agent';
import type { Topology } from '../topology/schema';
import { addressAt, cidrSize, formatIPv4, parseCidr } from '../lib/ip';
import { credentialFile, checksCredentials } from './credentials';
import { nodeDir, nodeNetns, runDir } from './names';
import { mountBpffs } from '../lib/mounts';
import { issueCredentials } from './node-credentials';
import { CONTROLLER_ROLE, controllerUrl, controlRequest, poll, startController, startInNode } from './processes';
import type { LabState, PodState, ProcessState } from './state';

export const PROXY_ROLE = 'proxy';
const PROXY_MAIN = join(__dirname, '..', 'proxy', 'agent', 'main.js');

/** Whether the lab serves Services: a proxy mode, or Services in its topology. */
export const servesServices = (t: Topology): boolean => t.proxy !== undefined || (t.services?.list.length ?? 0) > 0;

/** Whether the lab's controller serves the API server: not where the topology has no Service range. */
const apiServed = (t: Topology): boolean => apiserverArgs(t, '-').length > 0;

/**
 * The pods as the API server holds them: each with its topology labels, by its IPv4 address
 * (Services and NetworkPolicy are IPv4 here, docs/ipv6.md); a pod with none (an IPv6-only lab) is
 * not registered.
 */
const withLabels = (t: Topology, pods: readonly PodState[]) =>
  pods.flatMap((p) => {
    const labels = t.pods.find((x) => x.name === p.name)?.labels;
    const ip = (p.ips ?? [p.ip]).find((a) => !a.includes(':'));
    return ip === undefined ? [] : [{ name: p.name, node: p.node, ip, ...(labels ? { labels } : {}) }];
  });

/**
 * Why the lab cannot serve `t`'s Services or run its proxy, checked before anything is made: an
 * unknown proxy mode, or an architecture without pods (the baseline: nothing to proxy to).
 */
export function refuseServices(t: Topology, attachesPods: boolean): string | undefined {
  if (t.proxy !== undefined && !proxyModes.has(t.proxy))
    return `proxy: unknown mode ${JSON.stringify(t.proxy)}; known: ${proxyModes.names().join(', ')}`;
  if (servesServices(t) && !apiServed(t))
    return `services.cidr: the default ${DEFAULT_SERVICE_CIDR} overlaps podCidr ${t.podCidr}; name a Service range apart from it`;
  if (servesServices(t) && !attachesPods)
    return `${t.proxy !== undefined ? 'proxy' : 'services.list'}: this architecture attaches no pods, so it has no Services`;
  if (servesServices(t) && t.ipFamilies[0] === 6)
    return (
      `${t.proxy !== undefined ? 'proxy' : 'services.list'}: Services are IPv4 only here (docs/ipv6.md); ` +
      'measure them in an IPv4 or dual-stack lab whose first family is ipv4'
    );
  return undefined;
}

/** The proxy's folder on `node`: its rules' state, syncs.jsonl and synced. */
export const proxyDir = (lab: string, node: string): string => join(nodeDir(lab, node), 'proxy');

/** The bpffs the lab mounts for a proxy mode that pins (never the host's /sys/fs/bpf). */
export const proxyBpffs = (lab: string): string => join(runDir(lab), 'proxy-bpf');

/** The folder of a pinning mode's programs and maps for `node`, in the lab's proxy bpffs. */
const proxyStateDir = (lab: string, node: string): string => join(proxyBpffs(lab), node);

/** Starts `node`'s proxy agent. */
export function startProxy(state: Pick<LabState, 'lab' | 'topology'>, node: string): ProcessState {
  const { lab, topology } = state;
  return startInNode(lab, node, PROXY_ROLE, [
    PROXY_MAIN,
    '--controller',
    controllerUrl(topology),
    '--node',
    node,
    '--mode',
    topology.proxy!,
    '--netns',
    nodeNetns(lab, node),
    '--run-dir',
    proxyDir(lab, node),
    ...(proxyModes.get(topology.proxy!).pins ? ['--state-dir', proxyStateDir(lab, node)] : []),
    ...(checksCredentials(lab) ? ['--credential', credentialFile(lab, node)] : []),
  ]);
}

/**
 * Routes the Service range in each of `pods` the way the pod reaches the other pods: the kinds' CNI
 * configurations route the pod range only (the lab sends traffic to its own ranges, never a
 * default route), so without this a ClusterIP would be unreachable from a pod. Only with a proxy:
 * without one a ClusterIP leads nowhere. The route copies
 * the one the pod takes to a pod of another node (or to the pod range's last address).
 */
export async function routeServiceRange(
  t: Topology,
  pods: readonly PodState[],
  all: readonly PodState[],
): Promise<void> {
  const cidr = t.services?.cidr;
  if (cidr === undefined || t.proxy === undefined) return;
  const lastOfPods = formatIPv4(addressAt(parseCidr(t.podCidr), cidrSize(parseCidr(t.podCidr)) - 2));
  for (const p of pods) {
    const other = all.find((x) => x.node !== p.node)?.ip ?? lastOfPods;
    const [r] = await ipJson<{ gateway?: string; dev: string; flags?: string[] }[]>({ name: p.netns }, [
      'route',
      'get',
      other,
    ]);
    if (!r) throw new CnilabError('AGENT_FAILED', `pod ${p.name} has no route to ${other}`);
    const via = r.gateway ? ['via', r.gateway] : [];
    const onlink = r.flags?.includes('onlink') ? ['onlink'] : [];
    await ip({ name: p.netns }, ['route', 'replace', cidr, ...via, 'dev', r.dev, ...onlink]);
  }
}

/**
 * The device a node routes the Service range to (nodeServiceRoute): one end of a veth pair whose
 * other end stays down, so what is sent there is dropped (the kernel here has no dummy module).
 */
export const SERVICE_DEV = 'svc0';

/**
 * Routes the Service range on `node` to a device of its own that drops what it is given. A node of a real cluster sends
 * it to its default route; a lab node has none (its traffic stays in the lab). Without a route a
 * connection to a ClusterIP that no rule translates — a Service without endpoints — would be
 * answered "network unreachable" by the routing lookup before the proxy's reject could refuse it;
 * with it, the packet reaches the FORWARD hook and the proxy answers as kube-proxy's does.
 */
export async function nodeServiceRoute(lab: string, t: Topology, node: string): Promise<void> {
  const cidr = t.services?.cidr;
  if (t.proxy === undefined || cidr === undefined) return;
  await ipBatch({ name: nodeNetns(lab, node) }, [
    ['link', 'add', SERVICE_DEV, 'type', 'veth', 'peer', 'name', `${SERVICE_DEV}p`],
    ['link', 'set', SERVICE_DEV, 'up'],
    ['route', 'replace', cidr, 'dev', SERVICE_DEV],
  ]);
}

/** The API server's revision now. */
async function apiRevision(lab: string): Promise<number> {
  const r = await controlRequest<{ revision: number }>(lab, 'GET', '/api/services');
  if (r.status !== 200) throw new CnilabError('AGENT_FAILED', `the API server answered GET /api/services: ${r.status}`);
  return r.body.revision;
}

/**
 * How long a proxy may take to program what the API server holds: its first sync writes every
 * Service (thousands, in a large lab), and the kernel tier's emulated CPU takes seconds for one.
 * The wait ends early when the agent dies.
 */
const PROXY_SYNC_TIMEOUT_MS = 180_000;

/**
 * Waits until every agent in `procs` has programmed the API server's revision of now (or a later
 * one); `timeoutMs` for a load known to take longer (thousands of Services through iptables-nft).
 */
export async function proxiesSynced(
  lab: string,
  procs: readonly ProcessState[],
  signal?: AbortSignal,
  timeoutMs = PROXY_SYNC_TIMEOUT_MS,
): Promise<void> {
  const revision = await apiRevision(lab);
  for (const p of procs)
    await poll(
      `the ${p.node} proxy programming revision ${revision}`,
      () => {
        try {
          return Number(readFileSync(join(proxyDir(lab, p.node), SYNCED_FILE), 'utf8')) >= revision ? true : undefined;
        } catch {
          return undefined;
        }
      },
      [p],
      signal,
      timeoutMs,
    );
}

/**
 * After the control plane is up: the API server (every controller serves one; the lab starts its
 * own when the kind runs none and Services or a proxy are asked for), its pods, its Services, its
 * proxies. Returns the processes it started.
 */
export async function startServices(
  state: LabState,
  record: (processes: readonly ProcessState[]) => void,
  signal?: AbortSignal,
): Promise<ProcessState[]> {
  const { lab, topology } = state;
  const started: ProcessState[] = [];
  const compute = topology.nodes.filter((n) => n.role === 'compute').map((n) => n.name);
  const hasController = state.processes.some((p) => p.role === CONTROLLER_ROLE);
  const enforces = policyDesign(topology, architectures.get(state.arch)) !== undefined;
  if (!apiServed(topology) || (!hasController && !servesServices(topology) && !enforces)) return started;
  if (!hasController) {
    started.push(startController(topology, []));
    record([...state.processes, ...started]);
    await issueCredentials(lab, compute, started, signal);
  }
  await poll('the API server', () => apiRevision(lab).catch(() => undefined), started, signal);
  await routeServiceRange(topology, state.pods, state.pods);
  await registerPods(lab, withLabels(topology, state.pods));
  await createServices(lab, topology.services?.list ?? []);
  const policy = (processes: readonly ProcessState[]): void => record([...state.processes, ...started, ...processes]);
  started.push(...(await startPolicyAgents(state, compute, policy, signal)));
  if (topology.proxy === undefined) return started;
  for (const n of compute) await nodeServiceRoute(lab, topology, n);
  if (proxyModes.get(topology.proxy).pins) await mountBpffs(proxyBpffs(lab));
  const proxies = compute.map((n) => startProxy(state, n));
  started.push(...proxies);
  record([...state.processes, ...started]);
  await proxiesSynced(lab, proxies, signal);
  return started;
}

/** A joined node's pods registered and its proxy started (and synced). */
export async function joinServices(
  state: LabState,
  node: string,
  pods: readonly PodState[],
  signal?: AbortSignal,
): Promise<ProcessState[]> {
  if (!apiServed(state.topology) || !state.processes.some((p) => p.role === CONTROLLER_ROLE)) return [];
  await routeServiceRange(state.topology, pods, state.pods);
  const controller = state.processes.filter((p) => p.role === CONTROLLER_ROLE);
  await registerPods(state.lab, withLabels(state.topology, pods), { controller, signal });
  const agents = await startPolicyAgents(state, [node], () => undefined, signal);
  if (state.topology.proxy === undefined) return agents;
  await nodeServiceRoute(state.lab, state.topology, node);
  const p = startProxy(state, node);
  await proxiesSynced(state.lab, [p], signal);
  return [...agents, p];
}

/** A leaving node's pods removed from the API server (their Services lose them as endpoints). */
export async function leaveServices(state: LabState, node: string): Promise<void> {
  if (!apiServed(state.topology) || !state.processes.some((p) => p.role === CONTROLLER_ROLE)) return;
  const mode = state.topology.proxy === undefined ? undefined : proxyModes.get(state.topology.proxy);
  // What the node's proxy made outside its namespace goes with it (a pinning mode's pins, in the lab's bpffs).
  if (mode?.pins) {
    await mode.cleanup({ netns: nodeNetns(state.lab, node), dir: proxyStateDir(state.lab, node) });
    rmSync(proxyStateDir(state.lab, node), { recursive: true, force: true });
  }
  const controller = state.processes.filter((p) => p.role === CONTROLLER_ROLE);
  for (const p of state.pods.filter((x) => x.node === node))
    await apiRequest(state.lab, 'DELETE', `/api/pods/${p.name}`, undefined, { controller }).catch((e: unknown) => {
      // one never registered (a join that failed before): nothing to remove
      if (!(e instanceof CnilabError && e.code === 'NOT_FOUND')) throw e;
    });
}
