/**
 * The port controller's state, the part of OpenStack Neutron a Kuryr pod network needs: networks
 * (segmentation type and ID, MTU), subnets (CIDR, gateway, allocation pools), ports (MAC, fixed IP,
 * owner, binding host, status), routers (a host and one interface port per subnet), and the agents
 * that wire networks on their hosts.
 *
 * Kept in SQLite (WAL, synchronous=FULL): a change is on disk before it is acknowledged, so a
 * restarted controller loses nothing. Every allocation (segmentation ID, IP, MAC) happens inside one
 * synchronous transaction, and UNIQUE constraints back it: concurrent requests can never share one.
 *
 * A port goes ACTIVE when it is bound to a host whose agent has reported the port's network as
 * wired — the moment its packets can flow — and stays DOWN until then (Neutron's L2 agents report
 * "device up" the same way). Every change bumps `index`; agents long-poll /v2.0/state, whose
 * index moves only when what it holds (networks, subnets, agents, routers, router ports) changed:
 * a pod's port coming or going wakes no agent (Neutron tells an L2 agent of the ports on its own
 * host only). With 20 agents and 1,000 ports, waking every agent on every port was 20,000 syncs.
 */
import { randomUUID } from 'node:crypto';
import { VXLAN_OVERHEAD } from '../../lib/vxlan';
import { addressAt, cidrSize, containsIPv4, formatIPv4, overlaps, parseCidr, parseIPv4 } from '../../lib/ip';
import { CnilabError } from '../../lib/errors';
import { Waiters } from '../../lib/waiters';
import { RevisionedStore } from '../../node/revisioned-store';
import {
  defaultPools,
  SCHEMA,
  toNetwork,
  toPort,
  toSubnet,
  type AgentRow,
  type NetworkRow,
  type PortRow,
  type SubnetRow,
  portValues,
} from './rows';
import { chooseAddress, chooseMac } from './allocate';
import {
  DEFAULT_NEUTRON_CONFIG,
  type PortStatus,
  type Network,
  type Subnet,
  type Port,
  type Agent,
  type Router,
  type NeutronConfig,
  type NetworkRequest,
  type SubnetRequest,
  type PortRequest,
  type AgentReport,
  type NeutronState,
} from './model';

/** The device owner of a router's leg on a subnet: it holds the subnet's gateway address. */
const ROUTER_INTERFACE = 'network:router_interface';
const VIF_TYPE: Readonly<Record<string, string>> = { openvswitch: 'ovs', linuxbridge: 'bridge' };

const conflict = (message: string): CnilabError => new CnilabError('CONFLICT', message);
const notFound = (what: string, id: string): CnilabError => new CnilabError('NOT_FOUND', `${what} ${id} not found`);
const invalid = (message: string): CnilabError => new CnilabError('INVALID_INPUT', message);

export class NeutronStore extends RevisionedStore {
  /** Wakes the watchers of /v2.0/state, which move with `stateIndex`, not with every change. */
  private readonly stateWaiters = new Waiters();
  /** The index of the last change that changed `state()`; never above `index`. */
  private stateIndex: number;
  private stateKey = '';

  constructor(
    file: string,
    readonly config: NeutronConfig = DEFAULT_NEUTRON_CONFIG,
  ) {
    super(file, SCHEMA, { foreignKeys: true });
    this.stateIndex = this.index;
    this.stateKey = JSON.stringify(this.stateContent());
  }

  override close(): void {
    this.stateWaiters.wakeAll();
    super.close();
  }

  // ── networks ───────────────────────────

  createNetwork(req: NetworkRequest): Network {
    return this.change(() => {
      if (this.db.prepare('SELECT 1 FROM networks WHERE name = ?').get(req.name))
        throw conflict(`network.name: a network named ${req.name} exists`);
      const [lo, hi] = req.segmentationType === 'vxlan' ? this.config.vniRange : this.config.vlanRange;
      const used = new Set(
        (
          this.db.prepare('SELECT seg_id FROM networks WHERE seg_type = ?').all(req.segmentationType) as {
            seg_id: number;
          }[]
        ).map((r) => r.seg_id),
      );
      let segId = req.segmentationId;
      if (segId !== undefined) {
        if (req.segmentationType === 'vlan' && (segId < 1 || segId > 4094))
          throw invalid(`network.provider:segmentation_id: VLAN ID ${segId} must be from 1 to 4094`);
        if (req.segmentationType === 'vxlan' && (segId < 1 || segId > 16_777_215))
          throw invalid(`network.provider:segmentation_id: VNI ${segId} must be from 1 to 16777215`);
        if (used.has(segId))
          throw conflict(
            `network.provider:segmentation_id: ${req.segmentationType} ${segId} is in use by another network`,
          );
      } else {
        for (let i = lo; i <= hi && segId === undefined; i++) if (!used.has(i)) segId = i;
        if (segId === undefined)
          throw conflict(`network.provider:segmentation_id: no free ${req.segmentationType} ID left in ${lo}–${hi}`);
      }
      const fullMtu = this.config.underlayMtu;
      const maxMtu = req.segmentationType === 'vxlan' ? fullMtu - VXLAN_OVERHEAD : fullMtu;
      const mtu = req.mtu ?? maxMtu;
      if (mtu > maxMtu || mtu < 576)
        throw invalid(
          `network.mtu: ${mtu} must be from 576 to ${maxMtu} ` +
            `(underlay ${fullMtu}${req.segmentationType === 'vxlan' ? ` − ${VXLAN_OVERHEAD} for VXLAN` : ''})`,
        );
      const net: Network = {
        id: randomUUID(),
        name: req.name,
        segmentationType: req.segmentationType,
        segmentationId: segId,
        mtu,
        createdAt: new Date().toISOString(),
      };
      this.db
        .prepare('INSERT INTO networks VALUES (?, ?, ?, ?, ?, ?)')
        .run(net.id, net.name, net.segmentationType, net.segmentationId, net.mtu, net.createdAt);
      return net;
    });
  }

  networks(): Network[] {
    return (this.db.prepare('SELECT * FROM networks ORDER BY rowid').all() as NetworkRow[]).map(toNetwork);
  }

  network(id: string): Network {
    const r = this.db.prepare('SELECT * FROM networks WHERE id = ? OR name = ?').get(id, id) as NetworkRow | undefined;
    if (!r) throw notFound('network', id);
    return toNetwork(r);
  }

  deleteNetwork(id: string): void {
    this.change(() => {
      const net = this.network(id);
      const n = (this.db.prepare('SELECT COUNT(*) AS n FROM ports WHERE network_id = ?').get(net.id) as { n: number })
        .n;
      if (n > 0) throw conflict(`network ${net.name} still has ${n} ports; delete them first`);
      this.db.prepare('DELETE FROM subnets WHERE network_id = ?').run(net.id);
      this.db.prepare('DELETE FROM networks WHERE id = ?').run(net.id);
    });
  }

  // ── subnets ────────────────────────────

  createSubnet(req: SubnetRequest): Subnet {
    return this.change(() => {
      const net = this.network(req.networkId);
      const cidr = parseCidr(req.cidr, true);
      if (cidr.prefix > 29) throw invalid(`subnet.cidr: ${req.cidr} is too small (a /29 at most)`);
      for (const s of this.subnets()) {
        if (s.networkId === net.id && overlaps(parseCidr(s.cidr), cidr))
          throw conflict(`subnet.cidr: ${req.cidr} overlaps subnet ${s.cidr} of network ${net.name}`);
      }
      const first = addressAt(cidr, 1);
      const last = addressAt(cidr, cidrSize(cidr) - 2);
      const gateway = req.gatewayIp ?? formatIPv4(first);
      if (!containsIPv4(cidr, parseIPv4(gateway)) || parseIPv4(gateway) < first || parseIPv4(gateway) > last)
        throw invalid(`subnet.gateway_ip: ${gateway} is not a host address of ${req.cidr}`);
      const pools = req.allocationPools ?? defaultPools(first, last, parseIPv4(gateway));
      for (const [i, p] of pools.entries()) {
        const [s, e] = [parseIPv4(p.start), parseIPv4(p.end)];
        if (s > e || s < first || e > last)
          throw invalid(
            `subnet.allocation_pools[${i}]: ${p.start}–${p.end} must ` +
              `be an ascending range of host addresses of ${req.cidr}`,
          );
        if (s <= parseIPv4(gateway) && parseIPv4(gateway) <= e)
          throw invalid(`subnet.allocation_pools[${i}]: ${p.start}–${p.end} holds the gateway ${gateway}`);
      }
      const sub: Subnet = {
        id: randomUUID(),
        networkId: net.id,
        name: req.name ?? '',
        cidr: req.cidr,
        gatewayIp: gateway,
        allocationPools: pools,
      };
      this.db
        .prepare('INSERT INTO subnets VALUES (?, ?, ?, ?, ?, ?)')
        .run(sub.id, sub.networkId, sub.name, sub.cidr, sub.gatewayIp, JSON.stringify(sub.allocationPools));
      return sub;
    });
  }

  subnets(): Subnet[] {
    return (this.db.prepare('SELECT * FROM subnets ORDER BY rowid').all() as SubnetRow[]).map(toSubnet);
  }

  subnet(id: string): Subnet {
    const r = this.db.prepare('SELECT * FROM subnets WHERE id = ?').get(id) as SubnetRow | undefined;
    if (!r) throw notFound('subnet', id);
    return toSubnet(r);
  }

  deleteSubnet(id: string): void {
    this.change(() => {
      const s = this.subnet(id);
      const n = (this.db.prepare('SELECT COUNT(*) AS n FROM ports WHERE subnet_id = ?').get(s.id) as { n: number }).n;
      if (n > 0) throw conflict(`subnet ${s.cidr} still has ${n} ports; delete them first`);
      this.db.prepare('DELETE FROM subnets WHERE id = ?').run(s.id);
    });
  }

  // ── ports ──────────────────────────────

  /** A pod's (or any device's) port; a router's leg is made by addRouterInterface only, so it always has its router. */
  createPort(req: PortRequest): Port {
    if (req.deviceOwner === ROUTER_INTERFACE)
      throw invalid(
        `port.device_owner: ${ROUTER_INTERFACE} ports are made by PUT /v2.0/routers/ID/add_router_interface`,
      );
    return this.change(() => this.insertPort(req));
  }

  private insertPort(req: PortRequest): Port {
    const net = this.network(req.networkId);
    const subnets = this.subnets().filter((s) => s.networkId === net.id);
    const subnet = req.subnetId ? subnets.find((s) => s.id === req.subnetId) : subnets[0];
    if (!subnet)
      throw invalid(
        req.subnetId
          ? `port.fixed_ips.subnet_id: ${req.subnetId} is not a subnet of network ${net.name}`
          : `port.network_id: network ${net.name} has no subnet`,
      );
    const used = new Set(
      (this.db.prepare('SELECT ip FROM ports WHERE subnet_id = ?').all(subnet.id) as { ip: string }[]).map((r) => r.ip),
    );
    if (req.ipAddress === subnet.gatewayIp && req.deviceOwner !== ROUTER_INTERFACE)
      throw conflict(
        `port.fixed_ips.ip_address: ${req.ipAddress} is the gateway of ${subnet.cidr}: a router's leg takes it`,
      );
    const ip = chooseAddress(subnet, used, req.ipAddress);
    const mac = chooseMac(
      (m) => this.db.prepare('SELECT 1 FROM ports WHERE mac = ?').get(m) !== undefined,
      req.macAddress,
    );
    const host = req.hostId ?? '';
    const port: Port = {
      id: randomUUID(),
      networkId: net.id,
      subnetId: subnet.id,
      name: req.name ?? '',
      macAddress: mac,
      ipAddress: ip,
      deviceOwner: req.deviceOwner ?? '',
      deviceId: req.deviceId ?? '',
      hostId: host,
      ...this.binding(host, net.id),
      createdAt: new Date().toISOString(),
    };
    this.db.prepare('INSERT INTO ports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(...portValues(port));
    return port;
  }

  /** binding:vif_type and status of a port on `host` in `networkId`, from the host's agent (looked up unless given). */
  private binding(
    host: string,
    networkId: string,
    agent = host ? this.agents().find((a) => a.host === host) : undefined,
  ): { vifType: string; status: PortStatus } {
    if (!host || !agent) return { vifType: 'unbound', status: 'DOWN' };
    return {
      vifType: VIF_TYPE[agent.driver] ?? agent.driver,
      status: agent.wiredNetworks.includes(networkId) ? 'ACTIVE' : 'DOWN',
    };
  }

  ports(filter: { deviceId?: string; hostId?: string; networkId?: string; deviceOwner?: string } = {}): Port[] {
    const columns = {
      deviceId: 'device_id',
      hostId: 'host_id',
      networkId: 'network_id',
      deviceOwner: 'device_owner',
    } as const;
    const given = (Object.keys(columns) as (keyof typeof columns)[]).filter((k) => filter[k] !== undefined);
    const where = given.length ? `WHERE ${given.map((k) => `${columns[k]} = ?`).join(' AND ')}` : '';
    return (
      this.db.prepare(`SELECT * FROM ports ${where} ORDER BY rowid`).all(...given.map((k) => filter[k])) as PortRow[]
    ).map(toPort);
  }

  port(id: string): Port {
    const r = this.db.prepare('SELECT * FROM ports WHERE id = ?').get(id) as PortRow | undefined;
    if (!r) throw notFound('port', id);
    return toPort(r);
  }

  /** Binds (or rebinds) a port to a host, and renames it; a router's leg stays on its router's host. */
  updatePort(id: string, update: { hostId?: string; name?: string }): Port {
    return this.change(() => {
      const p = this.port(id);
      const host = update.hostId ?? p.hostId;
      if (p.deviceOwner === ROUTER_INTERFACE && host !== p.hostId)
        throw conflict(`port ${id} is a router interface: it stays on its router's host ${p.hostId}`);
      const b = this.binding(host, p.networkId);
      this.db
        .prepare('UPDATE ports SET host_id = ?, name = ?, vif_type = ?, status = ? WHERE id = ?')
        .run(host, update.name ?? p.name, b.vifType, b.status, id);
      return this.port(id);
    });
  }

  deletePort(id: string): void {
    this.change(() => {
      const p = this.port(id);
      if (p.deviceOwner === 'network:router_interface')
        throw conflict(`port ${id} is a router interface; remove it with remove_router_interface`);
      this.db.prepare('DELETE FROM ports WHERE id = ?').run(id);
    });
  }

  /** Resolves with the port once its status is `status`, or with its status then after `timeoutMs`. */
  async waitForStatus(id: string, status: PortStatus, timeoutMs: number): Promise<Port> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = this.port(id);
      if (p.status === status || Date.now() >= deadline) return p;
      if (deadline - Date.now() > 0) await this.nextChange(deadline - Date.now());
    }
  }

  // ── agents ─────────────────────────────

  /** An agent's report: who it is and what it has wired. Ports bound to its host follow. */
  reportAgent(r: AgentReport): Agent {
    return this.change(() => {
      for (const n of r.wiredNetworks) this.network(n);
      const agent: Agent = { ...r, wiredNetworks: [...r.wiredNetworks].sort(), updatedAt: new Date().toISOString() };
      this.db
        .prepare('INSERT OR REPLACE INTO agents VALUES (?, ?, ?, ?, ?, ?)')
        .run(
          agent.host,
          agent.driver,
          agent.underlayIp,
          agent.datapath,
          JSON.stringify(agent.wiredNetworks),
          agent.updatedAt,
        );
      const update = this.db.prepare('UPDATE ports SET vif_type = ?, status = ? WHERE id = ?');
      for (const p of this.ports({ hostId: r.host })) {
        const b = this.binding(p.hostId, p.networkId, agent);
        if (b.status !== p.status || b.vifType !== p.vifType) update.run(b.vifType, b.status, p.id);
      }
      return agent;
    });
  }

  agents(): Agent[] {
    return (this.db.prepare('SELECT * FROM agents ORDER BY host').all() as AgentRow[]).map((r) => ({
      host: r.host,
      driver: r.driver,
      underlayIp: r.underlay_ip,
      datapath: r.datapath,
      wiredNetworks: JSON.parse(r.wired) as string[],
      updatedAt: r.updated_at,
    }));
  }

  // ── routers ────────────────────────────

  createRouter(name: string, host: string): Router {
    return this.change(() => {
      if (this.db.prepare('SELECT 1 FROM routers WHERE name = ?').get(name))
        throw conflict(`router.name: a router named ${name} exists`);
      const r: Router = { id: randomUUID(), name, host };
      this.db.prepare('INSERT INTO routers VALUES (?, ?, ?)').run(r.id, r.name, r.host);
      return r;
    });
  }

  routers(): Router[] {
    return this.db.prepare('SELECT id, name, host FROM routers ORDER BY rowid').all() as Router[];
  }

  router(id: string): Router {
    const r = this.db.prepare('SELECT id, name, host FROM routers WHERE id = ? OR name = ?').get(id, id) as
      Router | undefined;
    if (!r) throw notFound('router', id);
    return r;
  }

  /** Gives the router a leg on a subnet: a port holding the subnet's gateway address, bound to the router's host. */
  addRouterInterface(routerId: string, subnetId: string): Port {
    return this.change(() => {
      const r = this.router(routerId);
      const s = this.subnet(subnetId);
      if (this.ports({ deviceId: r.id }).some((p) => p.subnetId === s.id))
        throw conflict(`router ${r.name} already has an interface on subnet ${s.cidr}`);
      return this.insertPort({
        networkId: s.networkId,
        subnetId: s.id,
        ipAddress: s.gatewayIp,
        deviceOwner: ROUTER_INTERFACE,
        deviceId: r.id,
        hostId: r.host,
        name: `qr-${s.name || s.cidr}`,
      });
    });
  }

  removeRouterInterface(routerId: string, subnetId: string): void {
    this.change(() => {
      const r = this.router(routerId);
      const p = this.ports({ deviceId: r.id }).find((x) => x.subnetId === subnetId);
      if (!p) throw notFound(`interface of router ${r.name} on subnet`, subnetId);
      this.db.prepare('DELETE FROM ports WHERE id = ?').run(p.id);
    });
  }

  deleteRouter(id: string): void {
    this.change(() => {
      const r = this.router(id);
      this.db
        .prepare('DELETE FROM ports WHERE device_id = ? AND device_owner = ?')
        .run(r.id, 'network:router_interface');
      this.db.prepare('DELETE FROM routers WHERE id = ?').run(r.id);
    });
  }

  // ── watching ───────────────────────────

  state(): NeutronState {
    return { index: this.stateIndex, ...this.stateContent() };
  }

  private stateContent(): Omit<NeutronState, 'index'> {
    return {
      networks: this.networks(),
      subnets: this.subnets(),
      agents: this.agents(),
      routers: this.routers(),
      routerPorts: this.ports({ deviceOwner: 'network:router_interface' }),
    };
  }

  /** The index of /v2.0/state: what its watchers compare. */
  get currentIndex(): number {
    return this.stateIndex;
  }

  /** Resolves once the state's index is above `index`, or after `timeoutMs`. */
  override waitForChange(index: number, timeoutMs: number): Promise<void> {
    if (this.stateIndex > index || timeoutMs <= 0) return Promise.resolve();
    return this.stateWaiters.wait(timeoutMs);
  }

  /** Runs `body` in one transaction; on success bumps the index and wakes the watchers. */
  private change<T>(body: () => T): T {
    const result = this.transaction(() => {
      const r = body();
      this.bump();
      return r;
    });
    const key = JSON.stringify(this.stateContent());
    if (key !== this.stateKey) {
      [this.stateKey, this.stateIndex] = [key, this.index];
      this.stateWaiters.wakeAll();
    }
    return result;
  }
}
