/**
 * flannel's control plane in a lab: the controller serves the lease store (/v1); an agent per
 * compute node leases a subnet, writes subnet.env and runs the backend; pods are attached with the
 * architecture's configuration list, made per node from that subnet.env. Nodes may join and leave
 * while the lab runs. The `bridge`, `macvlan` and `ipvlan` architectures use it too, with the `none`
 * backend: the leases only share the pod network out between nodes (`ipvlan-l3` with `host-gw`).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane, JoinContext, UpContext } from '../arch/architecture';
import { readSubnetEnv, type SubnetEnv } from '../cni/plugins/flannel/subnet-env';
import type { NetConfList } from '../cni/types';
import { stopPid } from '../lib/exec';
import { wireguardDatapath, wireguardGoNote, wireguardProbe } from '../node/wireguard';
import { IPSEC_KEY_FILE, ipsecProbe, newIpsecKeyText, placeIpsecKey } from './backends/ipsec';
import { AGENT_MAIN } from '../lib/paths';
import { settleAll } from '../lib/settle';
import { nodeNetns, runDir, UNDERLAY_IF } from '../lab/names';
import { ipJson } from '../lib/netns';
import { attachPods, writeConflist } from '../lab/pods';
import { leaseServiceArgs } from './subnet/service';
import { CONTROLLER_PORT, controlRequest, nodeDir, poll, startController, startInNode } from '../lab/processes';
import { credentialFile } from '../lab/credentials';
import { issueCredentials } from '../lab/node-credentials';
import type { LabState, PodState, ProcessState } from '../lab/state';
import type { Topology } from '../topology/schema';
import type { AgentStatus } from './agent/agent';
import type { BackendConfig, Lease } from './subnet/model';

/** What a node's configuration list is made from. */
export interface ConflistContext {
  readonly subnetEnv: SubnetEnv;
  /** The node's folder in the lab (subnet.env, conflist, plugin state). */
  readonly nodeDir: string;
  /** host-local's data directory for this node. */
  readonly ipamDir: string;
  /** The node's underlay interface. */
  readonly underlayIf: string;
  readonly lab: string;
  readonly node: string;
  /** The topology's families, in its order: a list gives its ranges in this order, so a pod's first address is the first family's. */
  readonly ipFamilies: readonly (4 | 6)[];
  /** DAD on the pods' IPv6 addresses where the plugin makes it a choice (bridge's enabledad): the topology's ipv6Dad. */
  readonly ipv6Dad: boolean;
  /** BIG TCP's sizes on the pods' devices (and the bridge, where the plugin makes one): the topology's bigTcp. */
  readonly bigTcp?: boolean;
}

export type ConflistFor = (ctx: ConflistContext) => NetConfList;

/**
 * What an architecture built on flannel's control plane adds to it (the ebpf ones: their bpffs, the agents' data
 * path).
 */
export interface FlannelExtras {
  /** Runs before the agents start, at `up` and at each join (so it must be idempotent). */
  readonly prepare?: (topology: Topology) => Promise<void>;
  /** The agent's executable, when the architecture brings its own build of it. Default: flannel's. */
  readonly agentMain?: string;
  /** More arguments for a node's agent. */
  readonly agentArgs?: (lab: string, node: string) => string[];
}

/**
 * What the controller needs to serve the lease store for `backend`: the topology's families become
 * flannel's EnableIPv4/EnableIPv6 (an IPv6-only topology leases no IPv4 subnet, as flannel does).
 */
function leaseArgs(topology: Topology, backend: BackendConfig): string[] {
  const v6 = topology.ipFamilies.includes(6);
  return leaseServiceArgs(join(runDir(topology.name), 'leases.db'), topology.podCidr, topology.subnetLength, backend, {
    ipv4: topology.ipFamilies.includes(4),
    ...(v6 ? { ipv6Network: topology.podCidr6, ipv6SubnetLength: topology.subnetLength6 } : {}),
  });
}

export function startAgent(topology: Topology, node: string, extras: FlannelExtras = {}): ProcessState {
  const lab = topology.name;
  const control = topology.nodes.find((n) => n.role === 'control')!;
  mkdirSync(nodeDir(lab, node), { recursive: true });
  return startInNode(lab, node, 'agent', [
    extras.agentMain ?? AGENT_MAIN,
    '--store',
    `http://${control.underlayIp}:${CONTROLLER_PORT}`,
    '--node',
    node,
    '--iface',
    UNDERLAY_IF,
    '--run-dir',
    nodeDir(lab, node),
    '--credential',
    credentialFile(lab, node),
    ...(extras.agentArgs?.(lab, node) ?? []),
  ]);
}

/** The node's subnet.env, once its agent holds a lease. */
export function waitForSubnet(
  lab: string,
  node: string,
  procs: readonly ProcessState[],
  signal?: AbortSignal,
): Promise<SubnetEnv> {
  const file = join(nodeDir(lab, node), 'subnet.env');
  return poll(`a lease for ${node}`, () => (existsSync(file) ? readSubnetEnv(file) : undefined), procs, signal);
}

/** Resolves once every agent has programmed every other compute node as a peer. */
export async function waitForPeers(
  lab: string,
  nodes: readonly string[],
  procs: readonly ProcessState[],
  signal?: AbortSignal,
): Promise<void> {
  const synced = (n: string): boolean => {
    const file = join(nodeDir(lab, n), 'agent.json');
    return existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as AgentStatus).peers.length >= nodes.length - 1;
  };
  await poll(`peer sync on ${nodes.join(', ')}`, () => (nodes.every(synced) ? true : undefined), procs, signal);
}

/**
 * Resolves once no IPv6 address in `node`'s namespace is still tentative: the gateway a plugin put on
 * cni0 answers neighbour solicitations only after duplicate address detection, so a pod could not
 * leave its node until then. Only labs with IPv6 wait (about a second, once per node).
 */
export async function waitForSettledIPv6(
  lab: string,
  node: string,
  procs: readonly ProcessState[],
  signal?: AbortSignal,
): Promise<void> {
  const ns = { name: nodeNetns(lab, node) };
  await poll(
    `IPv6 duplicate address detection on ${node}`,
    async () => {
      const links = await ipJson<{ addr_info: { tentative?: boolean }[] }[]>(ns, ['-6', 'addr', 'show']);
      return links.some((l) => l.addr_info.some((a) => a.tentative === true)) ? undefined : true;
    },
    procs,
    signal,
  );
}

/** The leases the lab's controller holds now. */
export async function leases(lab: string): Promise<Lease[]> {
  return (await controlRequest<{ leases: Lease[] }>(lab, 'GET', '/v1/leases')).body.leases;
}

const computeNames = (t: Topology): string[] => t.nodes.filter((n) => n.role === 'compute').map((n) => n.name);

/**
 * The ipsec backend's cluster key: made once in the lab's folder (0600), as an orchestrator's
 * Secret, and placed in each compute node's folder (0600), as kubelet mounts one for its agent.
 */
export async function placeIpsecKeys(topology: Topology): Promise<void> {
  const lab = topology.name;
  const cluster = join(runDir(lab), IPSEC_KEY_FILE);
  mkdirSync(runDir(lab), { recursive: true });
  placeIpsecKey(cluster, () => newIpsecKeyText());
  for (const node of computeNames(topology)) {
    mkdirSync(nodeDir(lab, node), { recursive: true });
    placeIpsecKey(join(nodeDir(lab, node), IPSEC_KEY_FILE), () => readFileSync(cluster, 'utf8'));
  }
}

/** Once a node's agent holds a lease: its configuration list, written, and its pods attached with it. */
async function attachNode(
  topology: Topology,
  node: string,
  pods: readonly string[] | undefined,
  conflist: ConflistFor,
  procs: readonly ProcessState[],
  signal?: AbortSignal,
): Promise<PodState[]> {
  const lab = topology.name;
  const subnetEnv = await waitForSubnet(lab, node, procs, signal);
  const list = conflist({
    subnetEnv,
    nodeDir: nodeDir(lab, node),
    ipamDir: join(nodeDir(lab, node), 'ipam'),
    underlayIf: UNDERLAY_IF,
    lab,
    node,
    ipFamilies: topology.ipFamilies,
    ipv6Dad: topology.ipv6Dad === true,
    bigTcp: topology.bigTcp === true,
  });
  writeConflist(lab, node, list);
  const attached = await attachPods(
    lab,
    topology.pods.filter((p) => p.node === node && (pods === undefined || pods.includes(p.name))),
    list,
    signal,
  );
  if (topology.ipFamilies.includes(6)) await waitForSettledIPv6(lab, node, procs, signal);
  return attached;
}

/** The control plane of a flannel architecture with `backend`, its pods attached with `conflist`. */
export function flannelControlPlane(
  backend: BackendConfig,
  conflist: ConflistFor,
  extras: FlannelExtras = {},
): ControlPlane & { readonly kind: 'flannel'; readonly backend: BackendConfig } {
  return {
    kind: 'flannel',
    backend,
    attachesPods: true,
    restartable: ['controller', 'agent'],
    async up({ topology, signal, step, record }: UpContext): Promise<PodState[]> {
      const compute = computeNames(topology);
      step(
        `control plane: lease store and ${compute.length} agents (backend ${backend.type}); ${topology.pods.length} ` +
          `pods through CNI`,
      );
      await extras.prepare?.(topology);
      const processes = [
        startController(topology, leaseArgs(topology, backend)),
        ...compute.map((n) => startAgent(topology, n, extras)),
      ];
      record(processes);
      // The agents retry until their credential is in their folder: issued once the controller answers.
      await issueCredentials(topology.name, compute, processes, signal);
      // Each node's pods are attached as soon as its agent has a lease, while the others still start.
      const perNode = await settleAll(
        compute.map((node) => attachNode(topology, node, undefined, conflist, processes, signal)),
      );
      await waitForPeers(topology.name, compute, processes, signal);
      return topology.pods.map((p) => perNode.flat().find((x) => x.name === p.name)!);
    },
    membership: {
      async join({ state, node, pods, signal, record }: JoinContext): Promise<PodState[]> {
        await extras.prepare?.(state.topology);
        const agent = startAgent(state.topology, node.name, extras);
        const processes = [...state.processes, agent];
        record(processes);
        try {
          const attached = await attachNode(
            state.topology,
            node.name,
            pods.map((p) => p.name),
            conflist,
            [agent],
            signal,
          );
          await waitForPeers(state.lab, computeNames(state.topology), processes, signal);
          return attached;
        } catch (e) {
          // The agent first: running, it would take its lease again the moment it is released.
          await stopPid(agent.pid);
          await controlRequest(state.lab, 'DELETE', `/v1/leases/${node.name}`).catch(() => undefined);
          throw e;
        }
      },
      async leave(state: LabState, node: string): Promise<void> {
        await controlRequest(state.lab, 'DELETE', `/v1/leases/${node}`);
      },
    },
    async restart(state: LabState, old: ProcessState): Promise<ProcessState> {
      return old.role === 'controller'
        ? startController(state.topology, leaseArgs(state.topology, backend))
        : startAgent(state.topology, old.node, extras);
    },
    datapath: (features) =>
      backend.type === 'wireguard'
        ? wireguardDatapath(features)
        : backend.type.startsWith('udp')
          ? 'user space: the flannel agent (TUN + UDP socket)'
          : backend.type === 'ipsec'
            ? 'kernel xfrm (ESP)'
            : 'kernel',
    ...(backend.type === 'wireguard' ? { probes: [wireguardProbe], readerNote: wireguardGoNote } : {}),
    ...(backend.type === 'ipsec' ? { probes: [ipsecProbe] } : {}),
  };
}
