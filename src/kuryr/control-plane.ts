/**
 * Bringing up a Kuryr lab's control plane: the port controller on the control node; on every
 * compute node its own ovsdb-server and ovs-vswitchd (openvswitch driver; never the host's OVS)
 * and the node daemon; then the networks, subnets and router of `kuryrLayout`, created through the
 * controller's API as an operator would; then the pods, through `kuryr-cni`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { kuryrConflist, kuryrLayout } from './layout';
import type { ControlPlane, RouterOnPath, UpContext } from '../arch/architecture';
import { openvswitch, type FeatureReport } from '../doctor/features';
import { CnilabError } from '../lib/errors';
import { containsIPv4, parseCidr, parseIPv4 } from '../lib/ip';
import { run } from '../lib/exec';
import type { DaemonStatus } from './daemon/daemon';
import { offloadOff, ovsDatapathName, type OvsDatapath } from './drivers/openvswitch';
import type { Network, Port, Router, Subnet } from './neutron/model';
import { settleAll } from '../lib/settle';
import type { Topology } from '../topology/schema';
import { neutronServiceArgs } from './neutron/service';
import { controllerUrl, controlRequest, nodeDir, poll, startController, startInNode } from '../lab/processes';
import { credentialFile } from '../lab/credentials';
import { issueCredentials } from '../lab/node-credentials';
import { nodeNetns, PREFIX, runDir, UNDERLAY_IF } from '../lab/names';
import { attachPods, writeConflist } from '../lab/pods';
import type { LabState, PodState, ProcessState } from '../lab/state';

const OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
/** The node daemon's executable: compiled beside this module. */
const KURYR_MAIN = join(__dirname, 'daemon', 'main.js');

/** The datapath OVS runs with here: the kernel's when its module loads, else userspace. */
export function ovsDatapath(features: Pick<FeatureReport, 'openvswitch'>): OvsDatapath {
  return features.openvswitch.ok ? 'system' : 'netdev';
}

/**
 * Userspace TSO for OVS' netdev datapath where it works: OVS 3.1 segments TCP super-packets for
 * plain and VLAN-tagged ports, not into tunnels — so VLAN networks get it, VXLAN networks do not.
 */
export function userspaceTso(spec: KuryrSpec, datapath: OvsDatapath): boolean {
  return spec.driver === 'openvswitch' && datapath === 'netdev' && spec.segmentation === 'vlan';
}

/** What the results say carried the packets. */
export function kuryrDatapath(spec: KuryrSpec, features: FeatureReport): string {
  const dp = ovsDatapath(features);
  return spec.driver === 'linuxbridge' ? 'linux bridge (kernel)' : ovsDatapathName(dp, userspaceTso(spec, dp));
}

export const ovsDir = (lab: string, node: string): string => join(nodeDir(lab, node), 'ovs');
export const ovsDbSocket = (lab: string, node: string): string => join(ovsDir(lab, node), 'db.sock');
/** What the controller needs to serve the port controller. */
const neutronArgs = (t: Topology): string[] => neutronServiceArgs(join(runDir(t.name), 'neutron.db'), t.underlay.mtu);
export const daemonSocket = (lab: string, node: string): string => join(nodeDir(lab, node), 'kuryr.sock');

async function must<T>(lab: string, method: 'POST' | 'PUT', path: string, body: unknown): Promise<T> {
  const r = await controlRequest<T & { error?: string }>(lab, method, path, body);
  if (r.status >= 300)
    throw new CnilabError(
      'AGENT_FAILED',
      `port controller: ${method} ${path}: HTTP ${r.status}: ${r.body.error ?? ''}`,
    );
  return r.body;
}

/** ovsdb-server and ovs-vswitchd of one node, each with its own run directory inside the lab. */
async function startOvs(lab: string, node: string, tso: boolean): Promise<ProcessState[]> {
  const dir = ovsDir(lab, node);
  mkdirSync(dir, { recursive: true });
  const db = join(dir, 'conf.db');
  if (!existsSync(db)) await run('ovsdb-tool', ['create', db, OVS_SCHEMA]);
  // OVS_RUNDIR: the bridges' management sockets (br-int.mgmt, …) go here, not into the host's /run/openvswitch.
  const env = { OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const server = startInNode(
    lab,
    node,
    'ovsdb-server',
    [
      db,
      `--remote=punix:${ovsDbSocket(lab, node)}`,
      `--unixctl=${join(dir, 'ovsdb-server.ctl')}`,
      '--no-chdir',
      '-vconsole:warn',
    ],
    { command: 'ovsdb-server', env },
  );
  await poll(`ovsdb-server on ${node}`, () => (existsSync(ovsDbSocket(lab, node)) ? true : undefined), [server]);
  // ovs-vswitchd reads userspace-tso-enable once, at start.
  await run('ovs-vsctl', [
    `--db=unix:${ovsDbSocket(lab, node)}`,
    '--no-wait',
    'init',
    '--',
    'set',
    'Open_vSwitch',
    '.',
    `other_config:userspace-tso-enable=${tso}`,
  ]);
  const vswitchd = startInNode(
    lab,
    node,
    'ovs-vswitchd',
    [`unix:${ovsDbSocket(lab, node)}`, `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`, '--no-chdir', '-vconsole:warn'],
    { command: 'ovs-vswitchd', env },
  );
  return [server, vswitchd];
}

export function startKuryrDaemon(
  topology: Topology,
  node: string,
  spec: KuryrSpec,
  datapath: OvsDatapath,
): ProcessState {
  const lab = topology.name;
  const n = topology.nodes.find((x) => x.name === node)!;
  mkdirSync(nodeDir(lab, node), { recursive: true });
  return startInNode(
    lab,
    node,
    'kuryr-daemon',
    [
      KURYR_MAIN,
      '--controller',
      controllerUrl(topology),
      '--node',
      node,
      '--underlay',
      n.underlay,
      '--iface',
      UNDERLAY_IF,
      '--run-dir',
      nodeDir(lab, node),
      '--credential',
      credentialFile(lab, node),
      '--driver',
      spec.driver,
      '--netns-prefix',
      `${PREFIX}${lab}.`,
      ...(spec.driver === 'openvswitch'
        ? [
            '--ovs-db',
            ovsDbSocket(lab, node),
            '--datapath',
            datapath,
            ...(userspaceTso(spec, datapath) ? ['--userspace-tso'] : []),
          ]
        : []),
    ],
    { sharedMounts: true },
  );
}

function daemonStatus(lab: string, node: string): DaemonStatus | undefined {
  const f = join(nodeDir(lab, node), 'kuryr.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as DaemonStatus) : undefined;
}

/** Resolves once every daemon has wired `networks` towards every other compute node and serves its socket. */
export async function waitForDaemons(
  lab: string,
  nodes: readonly string[],
  networks: number,
  procs: readonly ProcessState[],
  signal?: AbortSignal,
): Promise<void> {
  const ready = (n: string): boolean => {
    const s = daemonStatus(lab, n);
    return (
      !!s &&
      s.wiredNetworks.length >= networks &&
      s.peers.length >= nodes.length - 1 &&
      existsSync(daemonSocket(lab, n))
    );
  };
  await poll(
    `the node daemons on ${nodes.join(', ')} wiring ${networks} networks`,
    () => (nodes.every(ready) ? true : undefined),
    procs,
    signal,
  );
}

/** Starts the Kuryr control plane, creates the layout's networks and router, and attaches the pods. */
async function upKuryr(
  spec: KuryrSpec,
  { topology, features, signal, step, record: onProcesses }: UpContext,
): Promise<PodState[]> {
  const lab = topology.name;
  const compute = topology.nodes.filter((x) => x.role === 'compute').map((n) => n.name);
  step(
    `control plane: port controller, ${compute.length} node daemons ` +
      (`(${spec.driver})${spec.driver === 'openvswitch' ? ` and ${compute.length} Open vSwitch instances` : ''}` +
        `; ${topology.pods.length} `) +
      `pods through CNI`,
  );
  const datapath = ovsDatapath(features);
  if (spec.driver === 'openvswitch' && datapath === 'system') await run('modprobe', ['openvswitch']);
  if (spec.driver === 'openvswitch' && datapath === 'netdev') {
    // OVS' userspace datapath reads frames off its ports as they are: whatever sends to a node must
    // put complete checksums in them — the control node too (the compute nodes' side is the driver's).
    const control = topology.nodes.find((n) => n.role === 'control')!;
    await offloadOff(nodeNetns(lab, control.name), UNDERLAY_IF);
  }
  const procs: ProcessState[] = [startController(topology, neutronArgs(topology))];
  onProcesses(procs);
  if (spec.driver === 'openvswitch') {
    for (const ovs of await settleAll(compute.map((n) => startOvs(lab, n, userspaceTso(spec, datapath)))))
      procs.push(...ovs);
    onProcesses(procs);
  }
  procs.push(...compute.map((n) => startKuryrDaemon(topology, n, spec, datapath)));
  onProcesses(procs);

  // The operator's part: networks, subnets, the router between them.
  // Answering, not just bound: a controller that died after binding leaves its socket file behind.
  const answers = (): Promise<true | undefined> =>
    controlRequest(lab, 'GET', '/v2.0/networks').then(
      (r) => (r.status === 200 ? true : undefined),
      () => undefined,
    );
  await poll('the port controller answering', answers, procs.slice(0, 1), signal);
  // The daemons retry their first sync until their credential is in their folder.
  await issueCredentials(lab, compute, procs, signal);
  const layout = kuryrLayout(topology);
  const subnets: Subnet[] = [];
  for (const plan of layout.networks) {
    const { network } = await must<{ network: Network }>(lab, 'POST', '/v2.0/networks', {
      network: { name: plan.name, segmentationType: spec.segmentation },
    });
    subnets.push(
      (
        await must<{ subnet: Subnet }>(lab, 'POST', '/v2.0/subnets', {
          subnet: { networkId: network.id, cidr: plan.cidr, name: `${plan.name}-subnet` },
        })
      ).subnet,
    );
  }
  if (layout.routerHost) {
    const { router } = await must<{ router: Router }>(lab, 'POST', '/v2.0/routers', {
      router: { name: 'router-ab', host: layout.routerHost },
    });
    for (const s of subnets)
      await must<{ port: Port }>(lab, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnetId: s.id });
  }
  await waitForDaemons(lab, compute, layout.networks.length, procs, signal);
  if (layout.routerHost) {
    await poll(
      'the router on ' + layout.routerHost,
      () => ((daemonStatus(lab, layout.routerHost!)?.routers.length ?? 0) > 0 ? true : undefined),
      procs,
      signal,
    );
  }

  const perNode = await settleAll(
    compute.map(async (node) => {
      const list = kuryrConflist(daemonSocket(lab, node), layout.networkOf.get(node)!);
      writeConflist(lab, node, list);
      return attachPods(
        lab,
        topology.pods.filter((p) => p.node === node),
        list,
        signal,
      );
    }),
  );
  return topology.pods.map((p) => perNode.flat().find((x) => x.name === p.name)!);
}

/** The namespace of the router on `node`, if it runs one. */
export function routerNetns(lab: string, node: string): string | undefined {
  return daemonStatus(lab, node)?.routers[0];
}

/** The router legs on `node`: host-side interface and subnet of each. */
export function routerLegs(lab: string, node: string): DaemonStatus['routerLegs'] {
  return daemonStatus(lab, node)?.routerLegs ?? [];
}

/** The router between the Kuryr networks: its node, namespace, and which leg faces an address. */
function routerOnPath(state: LabState): RouterOnPath {
  const host = kuryrLayout(state.topology).routerHost;
  const netns = host ? routerNetns(state.lab, host) : undefined;
  if (!host || !netns) throw new CnilabError('TRAFFIC_FAILED', `lab ${state.lab} runs no router for the routed path`);
  const legs = routerLegs(state.lab, host);
  return {
    node: host,
    netns,
    legTo: (ip) => legs.find((l) => l.cidr && containsIPv4(parseCidr(l.cidr), parseIPv4(ip)))?.hostIf,
  };
}

/**
 * Open vSwitch ran its userspace (netdev) datapath — cnilab's choice on a kernel without the
 * openvswitch module — so those rows measure another datapath than the paper's kernel OVS.
 */
function userspaceOvsNote(archs: readonly { name: string; datapath?: string }[], kernel: string): string | undefined {
  const userspace = archs.filter((a) => a.datapath?.startsWith('openvswitch netdev'));
  if (userspace.length === 0) return undefined;
  return (
    `Open vSwitch ran in user space (its netdev datapath) for ${userspace.map((a) => a.name).join(', ')}: ` +
    `kernel ${kernel} has no openvswitch module. The paper measured OVS's kernel datapath; user-space OVS moves ` +
    'every packet through ovs-vswitchd, so these rows are not comparable with it. On a kernel with the module, ' +
    'cnilab runs OVS in the kernel.'
  );
}

/** Which mechanism driver plugs the pods, and how networks are segmented. */
export interface KuryrSpec {
  readonly driver: 'openvswitch' | 'linuxbridge';
  readonly segmentation: 'vxlan' | 'vlan';
}

/** The control plane of a Kuryr architecture. Its nodes are fixed at `up` (the layout spans them). */
export function kuryrControlPlane(
  spec: KuryrSpec,
): ControlPlane & { readonly kind: 'kuryr'; readonly spec: KuryrSpec } {
  return {
    kind: 'kuryr',
    spec,
    attachesPods: true,
    restartable: ['controller', 'kuryr-daemon'],
    up: (ctx) => upKuryr(spec, ctx),
    membership: "a Kuryr lab's nodes are fixed at up (its layout spans them); bring a larger lab up with --topology",
    async restart(state: LabState, old: ProcessState): Promise<ProcessState> {
      if (old.role === 'controller') return startController(state.topology, neutronArgs(state.topology));
      // A killed daemon leaves its socket behind; gone, it tells when the new one serves.
      rmSync(daemonSocket(state.lab, old.node), { force: true });
      return startKuryrDaemon(state.topology, old.node, spec, ovsDatapath({ openvswitch: await openvswitch() }));
    },
    datapath: (features) => kuryrDatapath(spec, features),
    refuse: (topology) =>
      topology.ipFamilies.includes(6)
        ? 'ipFamilies: Kuryr is IPv4 only here, as in the paper (its Neutron networks, router and VLANs are IPv4)'
        : undefined,
    readerNote: userspaceOvsNote,
    router: routerOnPath,
  };
}
