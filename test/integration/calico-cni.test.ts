/**
 * The `calico` and `calico-ipam` CNI plugins' contract: the result at every spec version (a cali*
 * host end with no address, the pod's /32 behind 169.254.1.1), the pod learning its gateway's MAC
 * by proxy ARP (no permanent entry) so that two pods talk, CHECK that sees the node's /32 route
 * gone, DEL releasing the address (twice, and after the pod's namespace is gone), STATUS with and
 * without the IPAM API, an ADD failing before or after the address is assigned rolling back to
 * nothing, GC of an attachment the runtime no longer has, interop with the reference host-local as
 * its IPAM, and configuration errors naming the field.
 * Runs in a scratch "node" namespace with the controller serving the IPAM API on 127.0.0.1 there,
 * and 169.254.1.1/32 routed to lo and forwarding on, as the calico agent sets a node up.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atLeast } from '../../src/cni/version';
import { CniError, SUPPORTED_VERSIONS, type NetConfList, type Result } from '../../src/cni/types';
import { isAlive, run, startDaemon, stopPid } from '../../src/lib/exec';
import { httpJson } from '../../src/lib/http-json';
import { addNetns, deleteNetns, ip, ipJson, runIn } from '../../src/lib/netns';
import { CNI_BIN_DIR, CONTROLLER_MAIN } from '../../src/lib/paths';
import { nodeNetns, runDir } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { POD_GATEWAY } from '../../src/cni/plugins/common/l3-pod';
import type { Allocation } from '../../src/calico/ipam/store';
import { assertNothingLeft, rootSnapshot, waitUntil, type RootSnapshot, linkNames } from './helpers';
import { podSeries, scratchRuntime, type ScratchPod } from './scratch';

const LAB = 't-calicocni';
const HOST = nodeNetns(LAB, 'host');
const NODE = 'host';
const PORT = 2379;
const URL = `http://127.0.0.1:${PORT}`;
/** Nothing listens there in the scratch node: the IPAM API "does not answer". */
const CLOSED = 'http://127.0.0.1:9';
const SOCKET = join(runDir(LAB), 'controller.sock');
const LOG = join(runDir(LAB), 'controller.log');
const NET = 'calinet';
/** Debian's reference plugins (containernetworking-plugins v1.1.1, spec up to 1.0.0). */
const REFERENCE_CNI_DIR = '/usr/lib/cni';

const rtm = scratchRuntime(LAB);
const list = (cniVersion: string, ipam: { url?: string; node?: string } = {}, name = NET): NetConfList => ({
  cniVersion,
  name,
  plugins: [{ type: 'calico', mtu: 1400, ipam: { type: 'calico-ipam', url: URL, node: NODE, ...ipam } }],
});

type Pod = ScratchPod;
const newPod = podSeries(LAB, 'c', 'calico');

/** The IPAM API over the controller's Unix socket (127.0.0.1 in the node is out of this process's reach). */
const api = <T>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<{ status: number; body: T }> =>
  httpJson<T>(`http://controller${path}`, { method, body, socketPath: SOCKET });
const handles = async (): Promise<Map<string, string>> =>
  new Map(
    (await api<{ allocations: Allocation[] }>('GET', `/v3/ipam/allocations?node=${NODE}`)).body.allocations.map((a) => [
      a.handle,
      a.ip,
    ]),
  );
const handleOf = (p: Pod, network = NET): string => `${network}/${p.rt.containerId}/eth0`;
const caliLinks = async (): Promise<string[]> =>
  (await ipJson<{ ifname: string }[]>({ name: HOST }, ['link', 'show']))
    .map((l) => l.ifname)
    .filter((n) => /^cali/.test(n));
const podLinks = async (p: Pod): Promise<string[]> => await linkNames(p.ns);
const addrOf = (r: Result): string => r.ips![0]!.address.split('/')[0]!;
/** A /proc/sys/net/ipv4 setting as the node sees it. */
const nodeSysctl = async (path: string): Promise<string> =>
  (await run('ip', ['netns', 'exec', HOST, 'cat', `/proc/sys/net/ipv4/${path}`])).stdout.trim();

let root: RootSnapshot;
let controller: number | undefined;
before(async () => {
  root = await rootSnapshot();
  await teardownLab(LAB);
  await addNetns(HOST);
  await ip({ name: HOST }, ['link', 'set', 'lo', 'up']);
  // what the calico agent does on a node: proxy ARP answers only for what the node routes elsewhere
  await ip({ name: HOST }, ['route', 'add', `${POD_GATEWAY}/32`, 'dev', 'lo']);
  await run('ip', ['netns', 'exec', HOST, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  mkdirSync(runDir(LAB), { recursive: true });
  const args = ['--listen', '127.0.0.1', '--port', String(PORT), '--socket', SOCKET];
  const ipamArgs = ['--ipam-data', join(runDir(LAB), 'ipam.db'), '--pool', '10.85.0.0/16', '--mode', 'bgp'];
  controller = startDaemon(
    'ip',
    ['netns', 'exec', HOST, process.execPath, CONTROLLER_MAIN, ...args, ...ipamArgs],
    LOG,
  ).pid;
  await waitUntil('the controller to answer on its socket', async () => {
    if (!isAlive(controller!)) throw new Error(`the controller exited: ${readFileSync(LOG, 'utf8').trim()}`);
    return (
      existsSync(SOCKET) &&
      (await api('GET', '/v3/state').then(
        () => true,
        () => false,
      ))
    );
  });
  const put = await api('PUT', `/v3/nodes/${NODE}`, { ip: '192.0.2.10' });
  assert.equal(put.status, 200, `registering node ${NODE}: ${JSON.stringify(put.body)}`);
});
after(async () => {
  if (controller !== undefined) await stopPid(controller);
  await teardownLab(LAB);
  await assertNothingLeft(LAB, root, controller === undefined ? [] : [controller]);
});

/** The result: the cali* host end and the pod's eth0; a /32 behind the link-local gateway. */
function assertResult(r: Result, version: string, p: Pod): void {
  assert.equal(r.cniVersion, version);
  const [hostIf, podIf] = r.interfaces!;
  assert.match(hostIf!.name, /^cali[0-9a-f]{8}$/);
  assert.equal(hostIf!.sandbox ?? '', '');
  assert.deepEqual([podIf!.name, podIf!.sandbox], ['eth0', p.rt.netns]);
  assert.equal(r.ips!.length, 1);
  assert.match(r.ips![0]!.address, /^10\.85\.\d+\.\d+\/32$/);
  assert.equal(r.ips![0]!.gateway, POD_GATEWAY);
  assert.equal(r.ips![0]!.interface, 1);
  assert.deepEqual(r.routes, [{ dst: '0.0.0.0/0', gw: POD_GATEWAY }]);
}

/** The pod: its /32 and MTU, the default route via 169.254.1.1, and no MAC held for the gateway. */
async function assertPod(p: Pod, r: Result): Promise<void> {
  const [eth0] = await ipJson<{ mtu: number; addr_info: { family: string; local: string; prefixlen: number }[] }[]>(
    { name: p.ns },
    ['addr', 'show', 'dev', 'eth0'],
  );
  assert.equal(eth0!.mtu, 1400);
  assert.deepEqual(
    eth0!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    [r.ips![0]!.address],
  );
  const routes = await ipJson<{ dst: string; gateway?: string; dev: string }[]>({ name: p.ns }, ['route', 'show']);
  assert.deepEqual(
    routes.map((x) => [x.dst, x.gateway ?? '', x.dev]),
    [
      ['default', POD_GATEWAY, 'eth0'],
      [POD_GATEWAY, '', 'eth0'],
    ],
  );
  const neigh = await ipJson<{ dst: string; state: string[] }[]>({ name: p.ns }, ['neigh', 'show']);
  assert.deepEqual(
    neigh.filter((n) => n.state.includes('PERMANENT')),
    [],
    'no permanent entry: proxy ARP answers',
  );
}

/** The node: the /32 route on the host end, which has no IPv4 address, proxy ARP on and undelayed. */
async function assertNode(r: Result): Promise<void> {
  const host = r.interfaces![0]!.name;
  const routes = await ipJson<{ dst: string; dev: string; scope?: string }[]>({ name: HOST }, [
    'route',
    'show',
    `${addrOf(r)}/32`,
  ]);
  assert.deepEqual(
    routes.map((x) => [x.dst, x.dev, x.scope]),
    [[addrOf(r), host, 'link']],
  );
  const [link] = await ipJson<{ operstate: string; addr_info: { family: string }[] }[]>({ name: HOST }, [
    'addr',
    'show',
    'dev',
    host,
  ]);
  assert.deepEqual(
    link!.addr_info.filter((a) => a.family === 'inet'),
    [],
    'the host end holds no IPv4 address',
  );
  assert.equal(await nodeSysctl(`conf/${host}/proxy_arp`), '1');
  assert.equal(await nodeSysctl(`neigh/${host}/proxy_delay`), '0');
}

/** After a packet to another pod: the pod resolved 169.254.1.1 to its host end's MAC, by ARP. */
async function assertGatewayLearned(p: Pod, r: Result): Promise<void> {
  const neigh = await ipJson<{ dst: string; lladdr?: string; state: string[] }[]>({ name: p.ns }, ['neigh', 'show']);
  const gw = neigh.find((n) => n.dst === POD_GATEWAY);
  assert.ok(gw, `the pod has no neighbour entry for ${POD_GATEWAY}: ${JSON.stringify(neigh)}`);
  assert.equal(gw.lladdr, r.interfaces![0]!.mac, "the gateway's MAC is the host end's");
  assert.equal(gw.state.includes('PERMANENT'), false);
}

async function delTwiceAndAssertGone(conf: NetConfList, pods: readonly Pod[]): Promise<void> {
  for (const p of pods) {
    await rtm.delNetworkList(conf, p.rt);
    await rtm.delNetworkList(conf, p.rt);
    assert.deepEqual(await podLinks(p), ['lo'], `${p.ns}: eth0 is gone`);
  }
  const held = await handles();
  for (const p of pods) assert.equal(held.has(handleOf(p, conf.name)), false, `${handleOf(p, conf.name)} released`);
  assert.deepEqual(await caliLinks(), [], 'no host end left');
}

for (const version of SUPPORTED_VERSIONS) {
  const title = `${version}: ADD wires two pods behind proxy ARP (they talk), CHECK, STATUS, DEL twice releases everything`;
  test(title, async () => {
    const [a, b] = [await newPod(), await newPod()];
    const conf = list(version);
    const ra = await rtm.addNetworkList(conf, a.rt);
    const rb = await rtm.addNetworkList(conf, b.rt);
    assertResult(ra, version, a);
    assertResult(rb, version, b);
    assert.notEqual(addrOf(ra), addrOf(rb));
    const held = await handles();
    assert.equal(held.get(handleOf(a)), addrOf(ra), 'IPAM holds the address under NETWORK/CONTAINER/IFNAME');
    assert.equal(held.get(handleOf(b)), addrOf(rb));
    await assertPod(a, ra);
    await assertNode(ra);
    await assertNode(rb);
    await runIn({ name: a.ns }, 'ping', ['-c', '1', '-W', '2', addrOf(rb)]);
    await assertGatewayLearned(a, ra);
    await assertGatewayLearned(b, rb);
    if (atLeast(version, '0.4.0')) {
      await rtm.checkNetworkList(conf, a.rt);
      await rtm.checkNetworkList(conf, b.rt);
    }
    if (version === '1.1.0') await rtm.statusNetworkList(conf);
    await delTwiceAndAssertGone(conf, [a, b]);
    await deleteNetns(a.ns);
    await deleteNetns(b.ns);
  });
}

test("CHECK passes after ADD and fails once the node's /32 route to the pod is gone", async () => {
  const p = await newPod();
  const conf = list('1.1.0');
  const r = await rtm.addNetworkList(conf, p.rt);
  await rtm.checkNetworkList(conf, p.rt);
  await ip({ name: HOST }, ['route', 'del', `${addrOf(r)}/32`, 'dev', r.interfaces![0]!.name]);
  await assert.rejects(
    rtm.checkNetworkList(conf, p.rt),
    (e: CniError) => e instanceof CniError && e.code === 102 && /the node has no route to/.test(e.message),
  );
  await delTwiceAndAssertGone(conf, [p]);
  await deleteNetns(p.ns);
});

test("DEL after the pod's namespace is gone releases the address; DEL twice succeeds", async () => {
  const p = await newPod();
  const conf = list('1.1.0');
  await rtm.addNetworkList(conf, p.rt);
  await deleteNetns(p.ns);
  // The host end goes with its peer once the kernel has cleaned the namespace up: asynchronously.
  await waitUntil('the host end to go with the deleted namespace', async () => (await caliLinks()).length === 0);
  assert.equal((await handles()).has(handleOf(p)), true);
  await rtm.delNetworkList(conf, p.rt);
  await rtm.delNetworkList(conf, p.rt);
  assert.equal((await handles()).has(handleOf(p)), false, 'the address is released');
});

test('STATUS succeeds with the node registered; fails with 50 when it is not, or the IPAM API does not answer', async () => {
  await rtm.statusNetworkList(list('1.1.0'));
  await assert.rejects(
    rtm.statusNetworkList(list('1.1.0', { node: 'ghost' })),
    (e: CniError) => e.code === 50 && /node ghost is not registered/.test(e.message),
  );
  await assert.rejects(
    rtm.statusNetworkList(list('1.1.0', { url: CLOSED })),
    (e: CniError) => e.code === 50 && /is unavailable/.test(e.message),
  );
});

test('ADD without the IPAM API fails with 11 and leaves nothing', async () => {
  const p = await newPod();
  await assert.rejects(
    rtm.addNetworkList(list('1.1.0', { url: CLOSED }), p.rt),
    (e: CniError) => e.code === 11 && /IPAM API at http:\/\/127\.0\.0\.1:9 is unavailable/.test(e.message),
  );
  assert.deepEqual(await caliLinks(), [], 'no host end');
  assert.deepEqual(await podLinks(p), ['lo'], 'no pod interface');
  await deleteNetns(p.ns);
});

test('ADD failing after the address was assigned rolls back: the address released, no host end', async () => {
  const p = await newPod();
  // the pod already has an eth0: the veth cannot be made once IPAM has answered
  await ip({ name: p.ns }, ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
  await assert.rejects(
    rtm.addNetworkList(list('1.1.0'), p.rt),
    (e: CniError) => e.code === 100 && /calico ADD: .*File exists/.test(e.message),
  );
  assert.deepEqual(await caliLinks(), [], 'no host end');
  assert.deepEqual((await podLinks(p)).sort(), ['eth0', 'lo', 'peer0'], 'only what was there');
  assert.equal((await handles()).has(handleOf(p)), false, 'the address was released');
  await deleteNetns(p.ns);
});

test('GC removes the host end and releases the address of an attachment the runtime no longer has', async () => {
  const [a, b] = [await newPod(), await newPod()];
  const conf = list('1.1.0');
  const ra = await rtm.addNetworkList(conf, a.rt);
  // b's ADD went through a runtime whose record of it is lost: only the plugins' GC can find it
  const lost = scratchRuntime(LAB, { cache: 'lost-cache' });
  const rb = await lost.addNetworkList(conf, b.rt);
  assert.equal((await caliLinks()).length, 2);
  const gc = await rtm.gcNetworkList(conf, [{ containerID: a.rt.containerId, ifname: 'eth0' }]);
  assert.deepEqual(gc.deleted, []);
  assert.deepEqual(await caliLinks(), [ra.interfaces![0]!.name], "b's host end is gone, a's kept");
  assert.deepEqual(await podLinks(b), ['lo'], "b's eth0 went with its host end");
  const held = await handles();
  assert.equal(held.has(handleOf(b)), false, "b's address is released");
  assert.equal(held.get(handleOf(a)), addrOf(ra), "a's address is kept");
  assert.notEqual(addrOf(ra), addrOf(rb));
  await rtm.checkNetworkList(conf, a.rt);
  await lost.delNetworkList(conf, b.rt);
  await delTwiceAndAssertGone(conf, [a]);
  await deleteNetns(a.ns);
  await deleteNetns(b.ns);
});

test("interop: calico with the reference host-local as its IPAM (spec 1.0.0): its address made a /32 behind proxy ARP; DEL frees host-local's lease", async () => {
  const dataDir = join(runDir(LAB), 'host-local');
  // The reference plugins first: host-local is Debian's (calico is only ours).
  const ref = scratchRuntime(LAB, { cniPath: [REFERENCE_CNI_DIR, CNI_BIN_DIR], cache: 'ref-cache' });
  const conf: NetConfList = {
    cniVersion: '1.0.0',
    name: 'hlnet',
    plugins: [
      {
        type: 'calico',
        mtu: 1400,
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.86.1.0/24' }]], dataDir },
      },
    ],
  };
  const [a, b] = [await newPod(), await newPod()];
  const ra = await ref.addNetworkList(conf, a.rt);
  const rb = await ref.addNetworkList(conf, b.rt);
  for (const [p, r] of [
    [a, ra],
    [b, rb],
  ] as const) {
    assert.match(r.ips![0]!.address, /^10\.86\.1\.\d+\/32$/, 'the /24 lease, as a /32');
    await assertPod(p, r);
    await assertNode(r);
  }
  await runIn({ name: a.ns }, 'ping', ['-c', '1', '-W', '2', addrOf(rb)]);
  await ref.checkNetworkList(conf, a.rt);
  const leases = (): string[] => readdirSync(join(dataDir, 'hlnet')).filter((f) => /^\d/.test(f));
  assert.deepEqual(leases().sort(), [addrOf(ra), addrOf(rb)].sort(), "host-local's leases");
  for (const p of [a, b]) {
    await ref.delNetworkList(conf, p.rt);
    await ref.delNetworkList(conf, p.rt);
  }
  assert.deepEqual(leases(), [], 'DEL freed both leases');
  assert.deepEqual(await caliLinks(), [], 'no host end left');
  await deleteNetns(a.ns);
  await deleteNetns(b.ns);
});

test('bad configuration: ipam.url not a base URL, ipam.node not a node name: error 7 naming the field', async () => {
  const p = await newPod();
  for (const url of [`${URL}/v3`, 'https://127.0.0.1:2379', '127.0.0.1:2379']) {
    await assert.rejects(
      rtm.addNetworkList(list('1.1.0', { url }), p.rt),
      (e: CniError) => e.code === 7 && /^ipam\.url: /.test(e.message),
      url,
    );
  }
  for (const node of ['Host', 'node_1', '1node', 'a'.repeat(16)]) {
    await assert.rejects(
      rtm.addNetworkList(list('1.1.0', { node }), p.rt),
      (e: CniError) => e.code === 7 && /^ipam\.node: /.test(e.message),
      node,
    );
  }
  assert.deepEqual(await caliLinks(), []);
  assert.deepEqual(await podLinks(p), ['lo']);
  await deleteNetns(p.ns);
});
