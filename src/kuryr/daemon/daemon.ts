/**
 * The node daemon (kuryr-daemon's role), one per compute node, inside the node's namespace:
 *
 * - It watches the port controller (long-poll on /v2.0/state) and has its mechanism driver wire
 *   every network towards every peer agent; then it reports what it wired, which is what turns the
 *   ports bound to this node ACTIVE.
 * - It plugs the routers bound to this node: a namespace per router with one leg per interface
 *   port, forwarding between them (a Neutron legacy router).
 * - It serves the CNI plugin on a Unix socket: POST /addNetwork creates and binds the pod's port,
 *   waits until it is ACTIVE, creates the pod's veth with the port's MAC and IP and hands the host
 *   end to the driver; POST /delNetwork undoes that, also when the port is already gone.
 *
 * A restarted daemon finds what it made before (OVS' database, the kernel's links, its records of
 * pods' ports in RUN_DIR/ports) and carries on.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parseCidr } from '../../lib/ip';
import { run } from '../../lib/exec';
import { writeFileAtomic } from '../../lib/fs';
import { httpJson } from '../../lib/http-json';
import { ip, ipJson, listNamedNetns, parseNetnsPath, netnsTarget } from '../../lib/netns';
import { deleteLinkNl, kernelBatch } from '../../lib/netlink/ip-lines';
import { messageOf } from '../../lib/errors';
import { call, follow, untilUp } from '../../node/client';
import type { NeutronState, Network, Port, Subnet } from '../neutron/model';
import { hostIfName, type MechanismDriver } from '../drivers/driver';
import { CniCode, CniError } from '../../cni/types';

export interface DaemonOptions {
  readonly controller: string;
  readonly node: string;
  readonly underlayIp: string;
  readonly runDir: string;
  /** The node's credential file for the controller (lib/credential.ts); read at each request. Default: none. */
  readonly credential?: string;
  /** Router namespaces are named PREFIX + NODE + ".qrouter-" + the router ID's first 8 characters. */
  readonly netnsPrefix: string;
  readonly driver: MechanismDriver;
  /** Seconds a plug waits for its port to go ACTIVE. */
  readonly activeTimeoutSec?: number;
}

/**
 * Deletes a link of this namespace, best effort: gone already is fine, and so is failing (as `ip link del` unchecked
 * was).
 */
function dropLink(name: string): void {
  try {
    deleteLinkNl(undefined, name);
  } catch {
    /* best effort */
  }
}

/** What the CNI plugin sends. */
export interface PlugRequest {
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
  /** The network's name or ID. */
  readonly network?: string;
}

/** What the daemon answers a failed request with: a CNI error. */
export interface PlugError {
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

interface PortRecord {
  readonly portId: string;
  readonly hostIf: string;
  readonly networkId: string;
}

/** The daemon's status file, RUN_DIR/kuryr.json: what the lab waits on. */
export interface DaemonStatus {
  readonly node: string;
  readonly datapath: string;
  readonly index: number;
  readonly wiredNetworks: readonly string[];
  readonly peers: readonly string[];
  readonly routers: readonly string[];
  /** The routers' legs here: each leg's host-side interface and its subnet. */
  readonly routerLegs: readonly { readonly hostIf: string; readonly cidr: string }[];
}

export class KuryrDaemon {
  private state: NeutronState | undefined;
  private readonly controller: AbortController = new AbortController();

  /** The credential's file, for every request to the controller. */
  private readonly auth: { credential?: string };

  constructor(private readonly o: DaemonOptions) {
    this.auth = o.credential ? { credential: o.credential } : {};
    mkdirSync(join(o.runDir, 'ports'), { recursive: true });
  }

  private async api<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    let r: { status: number; body: T };
    try {
      r = await httpJson<T>(`${this.o.controller}${path}`, {
        method,
        body,
        signal: this.controller.signal,
        ...this.auth,
      });
    } catch (e) {
      if (this.controller.signal.aborted) throw e;
      throw this.unavailable(`${method} ${path}: ${messageOf(e)}`);
    }
    if (r.status >= 500) throw this.unavailable(`${method} ${path}: HTTP ${r.status}`);
    return r;
  }

  /**
   * The port controller down, restarting or failing inside (no answer, a reset connection, a 5xx): CNI error 11, "try
   * again later" — the runtime retries the ADD (DEL first). A refusal (4xx) is final.
   */
  private unavailable(why: string): CniError {
    return new CniError(
      CniCode.TRY_AGAIN_LATER,
      `the port controller at ${this.o.controller} is unavailable (${why}); try again once the controller is back`,
    );
  }

  /** Sets the datapath up, then wires and reports until stopped. Resolves once the first sync is done. */
  async start(): Promise<void> {
    await this.o.driver.setup();
    const signal = this.controller.signal;
    const first = await untilUp(() => call<NeutronState>(`${this.o.controller}/v2.0/state`, { signal, ...this.auth }), {
      signal,
      tries: 150,
      everyMs: 200,
      onRetry: (i, e) => {
        if (i % 10 === 0) console.error(`kuryr-daemon: first sync: ${messageOf(e)}; retrying`);
      },
    });
    await this.sync(first);
    void follow<NeutronState>({
      url: `${this.o.controller}/v2.0/state`,
      signal,
      from: first.index,
      apply: (s) => this.sync(s),
      log: (line) => console.error(`kuryr-daemon: ${line}`),
      retryMs: 500,
      ...this.auth,
    });
  }

  stop(): void {
    this.controller.abort();
  }

  private reported = '';
  private wiredKey = '';
  private wired: string[] = [];
  private routerNamespaces: string[] = [];

  /** Wires networks and routers for `s`, and reports to the controller when what is wired changed. */
  private async sync(s: NeutronState): Promise<void> {
    this.state = s;
    const me = s.agents.find((a) => a.host === this.o.node);
    const peers = s.agents.filter((a) => a.host !== this.o.node && a.driver === this.o.driver.name);
    // Ports come and go all the time; the datapath changes only with networks, peers and routers.
    const key = JSON.stringify([
      s.networks,
      peers.map((p) => [p.host, p.underlayIp]),
      s.routers,
      s.routerPorts.map((p) => [p.id, p.subnetId]),
    ]);
    if (key !== this.wiredKey) {
      this.wired = await this.o.driver.wire(s.networks, peers);
      this.routerNamespaces = await this.syncRouters(s);
      this.wiredKey = key;
    }
    const [wired, routers] = [this.wired, this.routerNamespaces];
    const report = JSON.stringify({
      driver: this.o.driver.name,
      underlayIp: this.o.underlayIp,
      datapath: this.o.driver.datapath,
      wiredNetworks: [...wired].sort(),
    });
    if (report !== this.reported || !me) {
      const r = await this.api('PUT', `/v2.0/agents/${this.o.node}`, { agent: JSON.parse(report) as unknown });
      if (r.status !== 200) throw new Error(`PUT agent: HTTP ${r.status}: ${JSON.stringify(r.body)}`);
      this.reported = report;
    }
    const legs = s.routerPorts.filter((p) => s.routers.some((r) => r.id === p.deviceId && r.host === this.o.node));
    const routerLegs = legs.map((p) => ({
      hostIf: hostIfName(p.id),
      cidr: s.subnets.find((x) => x.id === p.subnetId)?.cidr ?? '',
    }));
    const status: DaemonStatus = {
      node: this.o.node,
      datapath: this.o.driver.datapath,
      index: s.index,
      wiredNetworks: wired,
      peers: peers.map((p) => p.host),
      routers,
      routerLegs,
    };
    writeFileAtomic(join(this.o.runDir, 'kuryr.json'), JSON.stringify(status) + '\n');
  }

  // ── routers ────────────────────────────

  /** Router namespaces carry the node's name: every daemon sees /run/netns, each removes only its own. */
  private get routerNetnsPrefix(): string {
    return `${this.o.netnsPrefix}${this.o.node}.qrouter-`;
  }

  private routerNetns(routerId: string): string {
    return this.routerNetnsPrefix + routerId.slice(0, 8);
  }

  /** Router namespaces and legs for the routers bound here; returns their namespaces. */
  private async syncRouters(s: NeutronState): Promise<string[]> {
    const mine = s.routers.filter((r) => r.host === this.o.node);
    const wantNs = new Set(mine.map((r) => this.routerNetns(r.id)));
    for (const ns of listNamedNetns()) {
      if (ns.startsWith(this.routerNetnsPrefix) && !wantNs.has(ns))
        await run('ip', ['netns', 'delete', ns], { check: false });
    }
    for (const r of mine) {
      const ns = this.routerNetns(r.id);
      if (!listNamedNetns().includes(ns)) {
        await run('ip', ['netns', 'add', ns]);
        await ip({ name: ns }, ['link', 'set', 'lo', 'up']);
        await run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      }
      const legs = s.routerPorts.filter((p) => p.deviceId === r.id);
      const have = (await ipJson<{ ifname: string }[]>({ name: ns }, ['link', 'show']))
        .map((l) => l.ifname)
        .filter((n) => n.startsWith('qr-'));
      for (const name of have)
        if (!legs.some((p) => `qr-${p.id.slice(0, 11)}` === name))
          await ip({ name: ns }, ['link', 'del', name], { check: false });
      for (const p of legs) {
        if (have.includes(`qr-${p.id.slice(0, 11)}`)) continue;
        const net = s.networks.find((n) => n.id === p.networkId);
        const sub = s.subnets.find((x) => x.id === p.subnetId);
        if (!net || !sub) continue;
        await this.makeVeth(p, net, sub, ns, `qr-${p.id.slice(0, 11)}`, false);
      }
    }
    return [...wantNs];
  }

  // ── pods ───────────────────────────────

  /**
   * Creates the veth of `port`: the host end here, the other end (named `ifName`) in `netns`, addressed, and plugged.
   */
  private async makeVeth(
    port: Port,
    net: Network,
    sub: Subnet,
    netns: string,
    ifName: string,
    defaultRoute: boolean,
  ): Promise<string> {
    const hostIf = hostIfName(port.id);
    const prefix = parseCidr(sub.cidr).prefix;
    // over netlink from this process (lib/netlink): an `ip` start per step cost ~8.5 ms of each pod's ADD
    await kernelBatch(undefined, [
      [
        'link',
        'add',
        hostIf,
        'mtu',
        String(net.mtu),
        'type',
        'veth',
        'peer',
        'name',
        ifName,
        'address',
        port.macAddress,
        'mtu',
        String(net.mtu),
        'netns',
        netns,
      ],
    ]);
    try {
      await this.o.driver.prepareVeth(hostIf, netns, ifName);
      const target = { name: netns };
      await kernelBatch(target, [
        ['addr', 'add', `${port.ipAddress}/${prefix}`, 'dev', ifName],
        ['link', 'set', ifName, 'up'],
        ...(defaultRoute ? [['route', 'add', 'default', 'via', sub.gatewayIp, 'dev', ifName]] : []),
      ]);
      await this.o.driver.plug(hostIf, port, net);
      await kernelBatch(undefined, [['link', 'set', hostIf, 'up']]);
    } catch (e) {
      dropLink(hostIf);
      throw e;
    }
    return hostIf;
  }

  private recordFile(containerId: string, ifName: string): string {
    return join(this.o.runDir, 'ports', `${containerId}_${ifName}.json`);
  }

  async add(req: PlugRequest): Promise<object> {
    const s = this.state;
    if (!s) throw new CniError(11, 'the node daemon has not synced with the port controller yet; try again');
    const wanted = req.network ?? s.networks[0]?.name;
    const net = s.networks.find((n) => n.name === wanted || n.id === wanted) ?? (await this.fetchNetwork(wanted));
    const netnsName = netnsTarget(parseNetnsPath(req.netns));
    // The port: the one a crashed ADD left, or a new one, bound here.
    const existing = (
      await this.api<{ ports: Port[] }>('GET', `/v2.0/ports?deviceId=${encodeURIComponent(req.containerId)}`)
    ).body.ports.find((p) => p.name === req.ifName && p.networkId === net.id);
    let port = existing;
    if (!port) {
      const r = await this.api<{ port?: Port; error?: string }>('POST', '/v2.0/ports', {
        port: {
          networkId: net.id,
          name: req.ifName,
          deviceOwner: 'compute:kuryr',
          deviceId: req.containerId,
          hostId: this.o.node,
        },
      });
      if (r.status !== 201 || !r.body.port)
        throw new CniError(
          r.status === 409 ? 101 : 100,
          `port controller refused the port: ${r.body.error ?? `HTTP ${r.status}`}`,
        );
      port = r.body.port;
    }
    writeFileAtomic(
      this.recordFile(req.containerId, req.ifName),
      JSON.stringify({ portId: port.id, hostIf: hostIfName(port.id), networkId: net.id } satisfies PortRecord) + '\n',
    );
    try {
      const timeout = this.o.activeTimeoutSec ?? 30;
      const active = await this.api<{ port: Port }>('GET', `/v2.0/ports/${port.id}?status=ACTIVE&wait=${timeout}`);
      if (active.body.port?.status !== 'ACTIVE')
        throw new CniError(
          11,
          `port ${port.id} did not go ACTIVE within ${timeout} s (binding: ${active.body.port?.vifType ?? '?'})`,
        );
      port = active.body.port;
      // The watched state has the subnet unless it was created since the last change arrived.
      const sub =
        this.state?.subnets.find((x) => x.id === port!.subnetId) ??
        (await this.api<{ subnet: Subnet }>('GET', `/v2.0/subnets/${port.subnetId}`)).body.subnet;
      const hostIf = hostIfName(port.id);
      dropLink(hostIf); // a crashed ADD's half
      await this.makeVeth(port, net, sub, netnsName, req.ifName, true);
      return {
        interfaces: [{ name: hostIf }, { name: req.ifName, mac: port.macAddress, sandbox: req.netns }],
        ips: [{ address: `${port.ipAddress}/${parseCidr(sub.cidr).prefix}`, gateway: sub.gatewayIp, interface: 1 }],
        routes: [{ dst: '0.0.0.0/0', gw: sub.gatewayIp }],
        dns: {},
      };
    } catch (e) {
      // Best effort: with the controller gone the port stays, recorded, and the runtime's DEL releases it.
      await this.release(req.containerId, req.ifName).catch(() => undefined);
      throw e;
    }
  }

  private async fetchNetwork(wanted: string | undefined): Promise<Network> {
    if (!wanted) throw new CniError(7, 'network: the configuration names no network and the port controller has none');
    const r = await this.api<{ network?: Network }>('GET', `/v2.0/networks/${encodeURIComponent(wanted)}`);
    if (r.status !== 200 || !r.body.network)
      throw new CniError(7, `network: the port controller has no network ${JSON.stringify(wanted)}`);
    return r.body.network;
  }

  async del(req: Pick<PlugRequest, 'containerId' | 'ifName'>): Promise<void> {
    await this.release(req.containerId, req.ifName);
  }

  /** Unplugs, deletes the veth and the port; each step fine when what it removes is gone. */
  private async release(containerId: string, ifName: string): Promise<void> {
    const file = this.recordFile(containerId, ifName);
    const records: PortRecord[] = existsSync(file) ? [JSON.parse(readFileSync(file, 'utf8')) as PortRecord] : [];
    if (records.length === 0) {
      const r = await this.api<{ ports: Port[] }>('GET', `/v2.0/ports?deviceId=${encodeURIComponent(containerId)}`);
      for (const p of r.body.ports ?? [])
        if (p.name === ifName) records.push({ portId: p.id, hostIf: hostIfName(p.id), networkId: p.networkId });
    }
    for (const rec of records) {
      await this.o.driver.unplug(rec.hostIf);
      dropLink(rec.hostIf);
      const r = await this.api('DELETE', `/v2.0/ports/${rec.portId}`);
      if (r.status !== 200 && r.status !== 404)
        throw new CniError(100, `port controller could not delete port ${rec.portId}: HTTP ${r.status}`);
    }
    rmSync(file, { force: true });
  }

  /** The Unix-socket server the CNI plugin talks to. */
  server(): Server {
    return createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    try {
      const chunks: Buffer[] = [];
      for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as PlugRequest;
      if (typeof body.containerId !== 'string' || typeof body.ifName !== 'string')
        throw new CniError(4, 'containerId and ifName are required');
      if (req.method === 'POST' && req.url === '/addNetwork') {
        if (typeof body.netns !== 'string') throw new CniError(4, 'netns is required');
        return send(200, await this.add(body));
      }
      if (req.method === 'POST' && req.url === '/delNetwork') return (await this.del(body), send(200, {}));
      send(404, { code: 4, msg: `no route ${req.method ?? ''} ${req.url ?? ''}` } satisfies PlugError);
    } catch (e) {
      send(500, { code: e instanceof CniError ? e.code : 100, msg: messageOf(e) } satisfies PlugError);
    }
  }
}
