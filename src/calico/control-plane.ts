/**
 * calico's control plane in a lab: the controller serves the IPAM blocks and the nodes (/v3, a
 * SQLite store); an agent per compute node registers it and keeps its routes (src/calico/agent);
 * in bgp mode a `bird` per compute node, started once its agent has written the first
 * configuration, exchanges the blocks by BGP. Pods are attached by the `calico` plugin with
 * `calico-ipam`. Nodes may join and leave while the lab runs: every peer's BIRD configuration,
 * or VXLAN routes, follow.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  NETWORK_NAME,
  type ControlPlane,
  type JoinContext,
  type MembershipDetail,
  type UpContext,
} from '../arch/architecture';
import type { NetConfList } from '../cni/types';
import { wireguardDatapath, wireguardGoNote, wireguardProbe } from '../node/wireguard';
import { CALICO_WG_OVERHEAD, CALICO_WG_TABLE, tableRoutes } from './agent/wireguard';
import { stopPid } from '../lib/exec';
import { settleAll } from '../lib/settle';
import { VXLAN_OVERHEAD } from '../lib/vxlan';
import { IPIP_OVERHEAD } from './tunnels';
import { nodeNetns, runDir, UNDERLAY_IF } from '../lab/names';
import { attachPods, writeConflist } from '../lab/pods';
import { ipamServiceArgs } from './ipam/service';
import {
  controllerUrl,
  controlRequest,
  controlRequestAnswered,
  nodeDir,
  poll,
  startController,
  startInNode,
} from '../lab/processes';
import { credentialFile } from '../lab/credentials';
import { issueCredentials } from '../lab/node-credentials';
import type { LabState, PodState, ProcessState } from '../lab/state';
import type { Topology } from '../topology/schema';
import { birdc, birdPaths, birdTimeMs, parseProtocols, parseRouteTime, peerProtocol } from './bird';
import { CnilabError } from '../lib/errors';
import { ipJson } from '../lib/netns';
import { iptablesPolicy } from '../policy/iptables/design';
import { nftablesPolicy } from '../policy/nftables/design';
import { containsIPv4, parseCidr, parseIPv4, type Family } from '../lib/ip';
import { POD_GATEWAY } from '../cni/plugins/common/l3-pod';
import { BLOCK_SIZE6, poolProblem, type CalicoMode, type IpamState, type PoolConfig } from './ipam/store';

/** Calico's default block size: 64 addresses. */
export const BLOCK_SIZE = 26;

/** The node agent's executable: compiled beside this module. */
const CALICO_AGENT_MAIN = join(__dirname, 'agent', 'main.js');

const computeNames = (t: Topology): string[] => t.nodes.filter((n) => n.role === 'compute').map((n) => n.name);

/** The IPAM pools: the IPv4 one always (the store's), the IPv6 one when the lab has IPv6. */
function poolConfig(topology: Topology, mode: CalicoMode): PoolConfig {
  return {
    pool: topology.podCidr,
    blockSize: BLOCK_SIZE,
    mode,
    ...(topology.ipFamilies.includes(6) ? { pool6: topology.podCidr6, blockSize6: BLOCK_SIZE6 } : {}),
  };
}

function ipamArgs(topology: Topology, mode: CalicoMode): string[] {
  return ipamServiceArgs(join(runDir(topology.name), 'ipam.db'), poolConfig(topology, mode));
}

function startAgent(topology: Topology, node: string, mode: CalicoMode, wireguard = false): ProcessState {
  mkdirSync(nodeDir(topology.name, node), { recursive: true });
  return startInNode(topology.name, node, 'agent', [
    CALICO_AGENT_MAIN,
    '--store',
    controllerUrl(topology),
    '--node',
    node,
    '--iface',
    UNDERLAY_IF,
    '--run-dir',
    nodeDir(topology.name, node),
    '--mode',
    mode,
    '--credential',
    credentialFile(topology.name, node),
    ...(wireguard ? ['--wireguard'] : []),
  ]);
}

/** The node's BGP speaker, on the configuration its agent wrote. */
function startBird(lab: string, node: string): ProcessState {
  const p = birdPaths(nodeDir(lab, node));
  return startInNode(lab, node, 'bird', ['-f', '-c', p.config, '-s', p.socket], { command: 'bird' });
}

/** A node's pods: the calico plugin, calico-ipam on the lab's IPAM API. */
function calicoConflist(topology: Topology, node: string, mode: CalicoMode, wireguard: boolean): NetConfList {
  return {
    cniVersion: '1.0.0',
    name: NETWORK_NAME,
    plugins: [
      {
        type: 'calico',
        mtu:
          topology.underlay.mtu -
          (wireguard ? CALICO_WG_OVERHEAD : mode === 'vxlan' ? VXLAN_OVERHEAD : mode === 'ipip' ? IPIP_OVERHEAD : 0),
        // the pods' veths' GSO/GRO sizes (docs/big-tcp.md)
        ...(topology.bigTcp ? { bigTcp: true } : {}),
        ipam: {
          type: 'calico-ipam',
          url: controllerUrl(topology),
          node,
          credential: credentialFile(topology.name, node),
          families: topology.ipFamilies,
        },
      },
    ],
  };
}

/**
 * The node's BIRD (bgp mode) once its agent has written its configuration, and its pods. The pods
 * wait for the agent too unless the node is `registered` already (a join): their ADDs need only
 * that, and a block claimed early is in the agent's first configuration, announced the moment a
 * session comes up.
 */
async function bringUpNode(
  topology: Topology,
  node: string,
  mode: CalicoMode,
  o: {
    readonly pods?: readonly string[];
    readonly wireguard: boolean;
    readonly registered: boolean;
    readonly procs: ProcessState[];
    readonly record: (processes: readonly ProcessState[]) => void;
    readonly signal?: AbortSignal;
  },
): Promise<PodState[]> {
  const lab = topology.name;
  const agentJson = join(nodeDir(lab, node), 'agent.json');
  const agentUp = async (): Promise<void> => {
    await poll(`${node}'s agent registering`, () => (existsSync(agentJson) ? true : undefined), o.procs, o.signal);
    if (mode !== 'vxlan') {
      o.procs.push(startBird(lab, node));
      o.record(o.procs);
    }
  };
  const list = calicoConflist(topology, node, mode, o.wireguard);
  writeConflist(lab, node, list);
  const attach = (): Promise<PodState[]> =>
    attachPods(
      lab,
      topology.pods.filter((p) => p.node === node && (o.pods === undefined || o.pods.includes(p.name))),
      list,
      o.signal,
    );
  if (!o.registered) {
    await agentUp();
    return attach();
  }
  const [pods] = await settleAll<PodState[] | void>([attach(), agentUp()]);
  return pods as PodState[];
}

/**
 * Every compute node's kernel routes the other nodes' blocks (by BGP or over VXLAN) — with WireGuard,
 * into its device too (table 1, programmed with the peers).
 */
export async function waitForRoutes(
  topology: Topology,
  procs: readonly ProcessState[],
  signal?: AbortSignal,
  wireguard = false,
): Promise<void> {
  const lab = topology.name;
  const nodes = computeNames(topology);
  await poll(
    `routes to every node's blocks on ${nodes.join(', ')}`,
    async () => {
      const r = await controlRequest<IpamState>(lab, 'GET', '/v3/state').catch(() => undefined);
      if (r?.status !== 200) return undefined; // the controller restarting: asked again
      const { blocks } = r.body;
      for (const node of nodes) {
        for (const table of wireguard ? (['main', CALICO_WG_TABLE] as const) : (['main'] as const)) {
          const routes = await tableRoutes({ name: nodeNetns(lab, node) }, table);
          if (table === 'main')
            routes.push(...(await ipJson<typeof routes>({ name: nodeNetns(lab, node) }, ['-6', 'route'])));
          const have = new Set(routes.filter((r) => r.type !== 'blackhole').map((r) => r.dst));
          if (blocks.some((b) => b.node !== node && nodes.includes(b.node) && !have.has(b.cidr))) return undefined;
        }
      }
      return true;
    },
    procs,
    signal,
  );
}

/** The last peer's session with `node` up, and its block imported: BIRD's times on every other node. */
async function bgpTimes(state: LabState, node: string): Promise<MembershipDetail[]> {
  const now = Date.now();
  const blocks = (await controlRequest<IpamState>(state.lab, 'GET', '/v3/state')).body.blocks.filter(
    (b) => b.node === node,
  );
  let sessionUp = 0;
  let routeReceived = 0;
  for (const peer of computeNames(state.topology).filter((n) => n !== node)) {
    const socket = birdPaths(nodeDir(state.lab, peer)).socket;
    const session = parseProtocols(await birdc(socket, ['show', 'protocols'])).find(
      (s) => s.protocol === peerProtocol(node),
    );
    const up = session?.info.startsWith('Established') ? birdTimeMs(session.since, now) : undefined;
    if (up === undefined)
      throw new CnilabError('AGENT_FAILED', `BIRD on ${peer} has no established session with ${node}`);
    sessionUp = Math.max(sessionUp, up);
    for (const b of blocks) {
      const hms = parseRouteTime(await birdc(socket, ['show', 'route', 'for', b.cidr, 'all']), peerProtocol(node));
      const at = hms ? birdTimeMs(hms, now) : undefined;
      if (at === undefined)
        throw new CnilabError('AGENT_FAILED', `BIRD on ${peer} has no route to ${node}'s block ${b.cidr}`);
      routeReceived = Math.max(routeReceived, at);
    }
  }
  return [
    {
      key: 'bgpSessionUp',
      label: 'BGP session up',
      about: "the last peer's BGP session with the new node Established (BIRD's `show protocols` time, ms precision)",
      at: sessionUp,
    },
    {
      key: 'bgpRouteReceived',
      label: 'BGP route received',
      about: "the last peer had imported the new node's block (BIRD's `show route … all` time)",
      at: routeReceived,
    },
  ];
}

/** A node joins: registered (waited for while the controller restarts), its agent started, its pods attached. */
async function joinCalico(
  mode: CalicoMode,
  wireguard: boolean,
  { state, node, pods, signal, record }: JoinContext,
): Promise<PodState[]> {
  // The node is registered first, as an orchestrator's Node object exists before its agent
  // runs: the peers' BIRD take it as a neighbour while its agent and BIRD still start (BIRD
  // waits 0.75–1 s before its first connect: docs/calico.md).
  const controller = state.processes.filter((p) => p.role === 'controller');
  const registration = { ip: node.underlayIp };
  await controlRequestAnswered(state.lab, 'PUT', `/v3/nodes/${node.name}`, registration, controller, signal);
  const own = [startAgent(state.topology, node.name, mode, wireguard)];
  const recordAll = (ps: readonly ProcessState[]): void => record([...state.processes, ...ps]);
  recordAll(own);
  try {
    const attached = await bringUpNode(state.topology, node.name, mode, {
      pods: pods.map((p) => p.name),
      wireguard,
      registered: true,
      procs: own,
      record: recordAll,
      signal,
    });
    await waitForRoutes(state.topology, [...state.processes, ...own], signal, wireguard);
    return attached;
  } catch (e) {
    for (const p of own) await stopPid(p.pid);
    await controlRequest(state.lab, 'DELETE', `/v3/nodes/${node.name}`).catch(() => undefined);
    throw e;
  }
}

export function calicoControlPlane(
  mode: CalicoMode,
  {
    wireguard = false,
    ipFamilies = [4],
  }: { readonly wireguard?: boolean; readonly ipFamilies?: readonly Family[] } = {},
): ControlPlane & { readonly kind: 'calico'; readonly mode: CalicoMode } {
  return {
    kind: 'calico',
    mode,
    ipFamilies,
    attachesPods: true,
    restartable: ['controller', 'agent', 'bird'],
    // Felix's two data planes: iptables (its default) and nftables; policyDataplane picks one.
    policy: { designs: [iptablesPolicy, nftablesPolicy] },
    async up({ topology, signal, step, record }: UpContext): Promise<PodState[]> {
      const compute = computeNames(topology);
      step(
        `control plane: IPAM blocks and ${compute.length} agents ` +
          (`(${{ bgp: 'BIRD full mesh', ipip: 'BIRD full mesh over IP-in-IP', vxlan: 'VXLAN' }[mode]}` +
            `${wireguard ? ', WireGuard' : ''}); ` +
            `${topology.pods.length} `) +
          `pods through CNI`,
      );
      const procs = [
        startController(topology, ipamArgs(topology, mode)),
        ...compute.map((n) => startAgent(topology, n, mode, wireguard)),
      ];
      record(procs);
      // The agents retry until their credential is in their folder: issued once the controller answers.
      await issueCredentials(topology.name, compute, procs, signal);
      const perNode = await settleAll(
        compute.map((node) =>
          bringUpNode(topology, node, mode, { wireguard, registered: false, procs, record, signal }),
        ),
      );
      await waitForRoutes(topology, procs, signal, wireguard);
      return topology.pods.map((p) => perNode.flat().find((x) => x.name === p.name)!);
    },
    membership: {
      join: (ctx: JoinContext) => joinCalico(mode, wireguard, ctx),
      async leave(state: LabState, node: string): Promise<void> {
        await controlRequest(state.lab, 'DELETE', `/v3/nodes/${node}`);
      },
      ...(mode !== 'vxlan' ? { details: bgpTimes } : {}),
    },
    async restart(state: LabState, old: ProcessState): Promise<ProcessState> {
      if (old.role === 'controller') return startController(state.topology, ipamArgs(state.topology, mode));
      if (old.role === 'bird') return startBird(state.lab, old.node);
      return startAgent(state.topology, old.node, mode, wireguard);
    },
    refuse(topology: Topology): string | undefined {
      if (containsIPv4(parseCidr(topology.podCidr, true), parseIPv4(POD_GATEWAY)))
        return (
          `topology.podCidr (the IPAM pool): ${topology.podCidr} holds the pods' gateway ${POD_GATEWAY}; ` +
          `pick a range apart from it`
        );
      const problem = poolProblem(poolConfig(topology, mode), computeNames(topology).length);
      return problem
        ?.replace(/^pool:/, 'topology.podCidr (the IPAM pool):')
        .replace(/^pool6:/, 'topology.podCidr6 (the IPv6 IPAM pool):');
    },
    datapath: (features) => (wireguard ? wireguardDatapath(features) : 'kernel'),
    ...(wireguard ? { probes: [wireguardProbe], readerNote: wireguardGoNote } : {}),
  };
}
