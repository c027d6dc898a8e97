/**
 * Subnet leases, the role etcd or the Kubernetes API plays for flannel: the network configuration
 * and one subnet per node, carrying the node's underlay address and its backend's data (e.g. the
 * VTEP MAC). With IPv6 on (flannel's EnableIPv6), a lease also carries an IPv6 subnet of the
 * IPv6 network and the node's IPv6 underlay address; with IPv4 off (EnableIPv4=false, an IPv6-only
 * cluster), it carries no IPv4 subnet at all, as flannel leases none. Kept in SQLite (WAL, synchronous=FULL): a write is on disk before it is acknowledged,
 * so a restarted store loses no lease. Leases expire after their TTL unless renewed; every change
 * (grant, renewal with new data, release, expiry) bumps `index`, and watchers wait for an index
 * above the one they saw.
 */
import { formatAddr, formatCidr, ipFamily, parseCidr, parseIPv4, parsePrefix, subnetAt } from '../../lib/ip';
import { CnilabError } from '../../lib/errors';
import { RevisionedStore } from '../../node/revisioned-store';
import { hasIPv4, hasIPv6, type Lease, type LeaseRequest, type NetworkConfig } from './model';

interface Row {
  node: string;
  subnet: string | null;
  ipv6_subnet: string | null;
  public_ip: string;
  public_ipv6: string | null;
  backend_type: string;
  backend_data: string;
  expires_at: number;
  updated_at: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** What each backend's lease must carry for IPv4 and for IPv6. */
const REQUIRED_DATA: Readonly<Record<string, { readonly 4: readonly string[]; readonly 6: readonly string[] }>> = {
  vxlan: { 4: ['vtepMac'], 6: ['vtepMacV6'] },
};
/** The backend data naming a VTEP's MAC: no two nodes may name the same one. */
const MAC_KEYS = ['vtepMac', 'vtepMacV6'] as const;
/** Backends that put the same packets on the wire: a node may run either on the other's network. */
const SAME_WIRE: readonly (readonly string[])[] = [['udp', 'udp-offload']];

/** True when a node running `node` can be a peer on a network configured for `network`. */
export function wireCompatible(network: string, node: string): boolean {
  return network === node || SAME_WIRE.some((family) => family.includes(network) && family.includes(node));
}

// subnet is NULL in a network with IPv4 off; a file made before IPv6 (subnet NOT NULL) only ever holds
// networks with IPv4 on, since keepConfig refuses to open it for another configuration.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS leases (
    node TEXT PRIMARY KEY,
    subnet TEXT UNIQUE,
    public_ip TEXT NOT NULL UNIQUE,
    backend_type TEXT NOT NULL,
    backend_data TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    ipv6_subnet TEXT,
    public_ipv6 TEXT
  );`;
const IPV6_COLUMNS = ['ipv6_subnet', 'public_ipv6'] as const;

/** Why `config` is not a network a store can lease from, in one line naming the field; undefined when it is. */
export function networkProblem(config: NetworkConfig): string | undefined {
  if (!hasIPv4(config) && !hasIPv6(config)) return 'enableIPv4: a network needs IPv4 or IPv6 on';
  if (hasIPv4(config) && parseCidr(config.network).prefix >= config.subnetLength)
    return `subnetLength: /${config.subnetLength} does not fit in network ${config.network}`;
  if (!hasIPv6(config)) return undefined;
  const p = config.ipv6Network === undefined ? undefined : parsePrefix(config.ipv6Network);
  if (!p || p.family !== 6)
    return `ipv6Network: ${JSON.stringify(config.ipv6Network)} is not an IPv6 network like fd00:10:244::/56`;
  const len = config.ipv6SubnetLength ?? 64;
  if (!Number.isInteger(len) || len <= p.length || len > 128)
    return `ipv6SubnetLength: /${len} does not fit in ipv6Network ${config.ipv6Network}`;
  return undefined;
}

const describe = (c: NetworkConfig): string =>
  [
    ...(hasIPv4(c) ? [`${c.network}/${c.subnetLength}`] : []),
    ...(hasIPv6(c) ? [`${c.ipv6Network}/${c.ipv6SubnetLength ?? 64}`] : []),
  ].join(' and ') + ` (${c.backend.type})`;

export class LeaseStore extends RevisionedStore {
  private readonly sweeper: NodeJS.Timeout;
  readonly config: NetworkConfig;

  /** Opens (or creates) the store; `config` must match the one a reopened store holds. */
  constructor(
    file: string,
    config: NetworkConfig,
    private readonly ttlSec = 3600,
    private readonly now: () => number = Date.now,
  ) {
    const problem = networkProblem(config);
    if (problem) throw new CnilabError('INVALID_INPUT', problem);
    super(file, SCHEMA);
    // A store made before IPv6 (its file kept across a controller's restart) gains the IPv6 columns.
    const columns = (this.db.prepare('PRAGMA table_info(leases)').all() as { name: string }[]).map((c) => c.name);
    for (const c of IPV6_COLUMNS) if (!columns.includes(c)) this.db.exec(`ALTER TABLE leases ADD COLUMN ${c} TEXT`);
    for (const c of IPV6_COLUMNS) this.db.exec(`CREATE UNIQUE INDEX IF NOT EXISTS leases_${c} ON leases(${c})`);
    this.keepConfig<NetworkConfig>(config, (old) =>
      describe(old) !== describe(config)
        ? `${file} holds leases of network ${describe(old)}, not ${describe(config)}`
        : undefined,
    );
    this.config = config;
    this.sweeper = setInterval(() => this.expire(), 1000);
    this.sweeper.unref();
  }

  override close(): void {
    clearInterval(this.sweeper);
    super.close();
  }

  snapshot(): { index: number; leases: Lease[] } {
    const rows = this.db.prepare('SELECT * FROM leases').all() as Row[];
    const leases = rows.map(toLease).sort((a, b) => {
      const [x, y] = [leaseOrder(a), leaseOrder(b)];
      return x < y ? -1 : x > y ? 1 : a.node < b.node ? -1 : 1;
    });
    return { index: this.index, leases };
  }

  /** The node other than `node` whose lease holds VTEP MAC `mac` (lower case) under `key`, if any. */
  private vtepOwner(key: string, mac: string, node: string): string | undefined {
    const rows = this.db.prepare('SELECT node, backend_data FROM leases WHERE node <> ?').all(node) as {
      node: string;
      backend_data: string;
    }[];
    return rows.find((r) => (JSON.parse(r.backend_data) as Record<string, string>)[key]?.toLowerCase() === mac)?.node;
  }

  /** Refuses a request this network cannot take (INVALID_INPUT naming the field). */
  private validate(req: LeaseRequest): void {
    if (!wireCompatible(this.config.backend.type, req.backendType)) {
      throw new CnilabError(
        'INVALID_INPUT',
        `backendType: ${JSON.stringify(req.backendType)} does not match the network's backend ` +
          `${JSON.stringify(this.config.backend.type)}`,
      );
    }
    const data = req.backendData ?? {};
    const required = REQUIRED_DATA[req.backendType];
    const keys = [
      ...(hasIPv4(this.config) ? (required?.[4] ?? []) : []),
      ...(hasIPv6(this.config) ? (required?.[6] ?? []) : []),
    ];
    for (const key of keys) {
      if (data[key] === undefined)
        throw new CnilabError('INVALID_INPUT', `backendData.${key}: is required for backend ${req.backendType}`);
    }
    for (const key of MAC_KEYS)
      if (data[key] !== undefined && !MAC.test(data[key]))
        throw new CnilabError(
          'INVALID_INPUT',
          `backendData.${key}: ${JSON.stringify(data[key])} is not a MAC address like 0a:1b:2c:3d:4e:5f`,
        );
    parseIPv4(req.publicIp);
    if (hasIPv6(this.config) && req.publicIpv6 === undefined)
      throw new CnilabError('INVALID_INPUT', 'publicIpv6: is required, the network has IPv6 on');
    if (req.publicIpv6 !== undefined && !hasIPv6(this.config))
      throw new CnilabError('INVALID_INPUT', 'publicIpv6: the network has IPv6 off (enableIPv6)');
    if (req.publicIpv6 !== undefined && ipFamily(req.publicIpv6) !== 6)
      throw new CnilabError('INVALID_INPUT', `publicIpv6: ${JSON.stringify(req.publicIpv6)} is not an IPv6 address`);
  }

  /** Throws CONFLICT when another node holds `req`'s address (of either family) or a VTEP MAC. */
  private refuseClash(req: LeaseRequest, publicIpv6: string | null): void {
    for (const [field, column, value] of [
      ['publicIp', 'public_ip', req.publicIp],
      ['publicIpv6', 'public_ipv6', publicIpv6],
    ] as const) {
      if (value === null) continue;
      const clash = this.db
        .prepare(`SELECT node FROM leases WHERE ${column} = ? AND node <> ?`)
        .get(value, req.node) as { node: string } | undefined;
      if (clash) throw new CnilabError('CONFLICT', `${field}: ${value} is already leased to node ${clash.node}`);
    }
    // Peers map a VTEP's MAC to its lease: another node's MAC would take that node's traffic.
    for (const key of MAC_KEYS) {
      const mac = req.backendData?.[key]?.toLowerCase();
      const twin = mac === undefined ? undefined : this.vtepOwner(key, mac, req.node);
      if (twin)
        throw new CnilabError('CONFLICT', `backendData.${key}: ${req.backendData![key]} is node ${twin}'s VTEP`);
    }
  }

  /** Grants, or renews keeping the subnets. Throws INVALID_INPUT or CONFLICT naming the field. */
  acquire(req: LeaseRequest): Lease {
    this.validate(req);
    // Written canonically, so one address has one spelling in the UNIQUE column.
    const publicIpv6 = req.publicIpv6 === undefined ? null : formatAddr(parsePrefix(`${req.publicIpv6}/128`)!.addr);
    return this.transaction((): Lease => {
      this.expire();
      this.refuseClash(req, publicIpv6);
      const existing = this.db.prepare('SELECT * FROM leases WHERE node = ?').get(req.node) as Row | undefined;
      const row: Row = {
        node: req.node,
        subnet: hasIPv4(this.config) ? (existing?.subnet ?? this.freeSubnet()) : null,
        ipv6_subnet: hasIPv6(this.config) ? (existing?.ipv6_subnet ?? this.freeSubnet6()) : null,
        public_ip: req.publicIp,
        public_ipv6: publicIpv6,
        backend_type: req.backendType,
        backend_data: JSON.stringify(req.backendData ?? {}),
        expires_at: this.now() + this.ttlSec * 1000,
        updated_at: new Date(this.now()).toISOString(),
      };
      this.db
        .prepare(
          'INSERT INTO leases (node, subnet, ipv6_subnet, public_ip, public_ipv6, backend_type, backend_data, ' +
            'expires_at, updated_at) VALUES (@node, @subnet, @ipv6_subnet, @public_ip, @public_ipv6, @backend_type, ' +
            '@backend_data, @expires_at, @updated_at) ON CONFLICT(node) DO UPDATE SET public_ip = @public_ip, ' +
            'public_ipv6 = @public_ipv6, backend_type = @backend_type, backend_data = @backend_data, ' +
            'expires_at = @expires_at, updated_at = @updated_at',
        )
        .run(row);
      // A renewal that changes nothing peers see does not wake the watchers.
      const changed =
        !existing ||
        existing.public_ip !== row.public_ip ||
        existing.public_ipv6 !== row.public_ipv6 ||
        existing.backend_data !== row.backend_data;
      if (changed) this.bump();
      return toLease(row);
    });
  }

  release(node: string): boolean {
    const gone = this.db.prepare('DELETE FROM leases WHERE node = ?').run(node).changes > 0;
    if (gone) this.bump();
    return gone;
  }

  /** Removes leases past their expiry; returns how many. */
  expire(): number {
    const n = this.db.prepare('DELETE FROM leases WHERE expires_at <= ?').run(this.now()).changes;
    if (n > 0) this.bump();
    return n;
  }

  private freeSubnet(): string {
    const network = parseCidr(this.config.network);
    const count = 2 ** (this.config.subnetLength - network.prefix);
    const used = new Set(
      (this.db.prepare('SELECT subnet FROM leases WHERE subnet IS NOT NULL').all() as { subnet: string }[]).map(
        (r) => parseCidr(r.subnet).base,
      ),
    );
    for (let i = 1; i < count; i++) {
      const s = subnetAt(network, this.config.subnetLength, i);
      if (!used.has(s.base)) return formatCidr(s);
    }
    throw new CnilabError(
      'CONFLICT',
      `network ${this.config.network} has no free /${this.config.subnetLength} subnet left`,
    );
  }

  /** The first free IPv6 subnet, skipping the network's first (as the IPv4 side does). */
  private freeSubnet6(): string {
    const network = parsePrefix(this.config.ipv6Network!)!;
    const length = this.config.ipv6SubnetLength ?? 64;
    const used = new Set(
      (
        this.db.prepare('SELECT ipv6_subnet FROM leases WHERE ipv6_subnet IS NOT NULL').all() as {
          ipv6_subnet: string;
        }[]
      ).map((r) => r.ipv6_subnet),
    );
    const step = 1n << BigInt(128 - length);
    const count = 1n << BigInt(Math.min(length - network.length, 32));
    for (let i = 1n; i < count; i++) {
      const s = `${formatAddr({ family: 6, value: network.base + i * step })}/${length}`;
      if (!used.has(s)) return s;
    }
    throw new CnilabError('CONFLICT', `ipv6Network ${this.config.ipv6Network} has no free /${length} subnet left`);
  }
}

/** Leases in subnet order: IPv4's, or IPv6's in an IPv6-only network. */
function leaseOrder(l: Lease): bigint {
  if (l.subnet !== undefined) return BigInt(parseCidr(l.subnet).base);
  return l.ipv6Subnet === undefined ? 0n : parsePrefix(l.ipv6Subnet)!.base;
}

function toLease(r: Row): Lease {
  return {
    node: r.node,
    ...(r.subnet !== null ? { subnet: r.subnet } : {}),
    ...(r.ipv6_subnet !== null ? { ipv6Subnet: r.ipv6_subnet } : {}),
    publicIp: r.public_ip,
    ...(r.public_ipv6 !== null ? { publicIpv6: r.public_ipv6 } : {}),
    backendType: r.backend_type,
    backendData: JSON.parse(r.backend_data) as Record<string, string>,
    expiresAt: new Date(r.expires_at).toISOString(),
    updatedAt: r.updated_at,
  };
}
