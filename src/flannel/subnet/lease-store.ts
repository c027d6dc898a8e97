/**
 * Subnet leases, the role etcd or the Kubernetes API plays for flannel: the network configuration
 * and one subnet per node, carrying the node's underlay address and its backend's data (e.g. the
 * VTEP MAC). Kept in SQLite (WAL, synchronous=FULL): a write is on disk before it is acknowledged,
 * so a restarted store loses no lease. Leases expire after their TTL unless renewed; every change
 * (grant, renewal with new data, release, expiry) bumps `index`, and watchers wait for an index
 * above the one they saw.
 */
import { formatCidr, parseCidr, parseIPv4, subnetAt } from '../../lib/ip';
import { CnilabError } from '../../lib/errors';
import { RevisionedStore } from '../../node/revisioned-store';
import type { Lease, LeaseRequest, NetworkConfig } from './model';

interface Row {
  node: string;
  subnet: string;
  public_ip: string;
  backend_type: string;
  backend_data: string;
  expires_at: number;
  updated_at: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** What each backend's lease must carry. */
const REQUIRED_DATA: Readonly<Record<string, readonly string[]>> = { vxlan: ['vtepMac'] };
/** Backends that put the same packets on the wire: a node may run either on the other's network. */
const SAME_WIRE: readonly (readonly string[])[] = [['udp', 'udp-offload']];

/** True when a node running `node` can be a peer on a network configured for `network`. */
export function wireCompatible(network: string, node: string): boolean {
  return network === node || SAME_WIRE.some((family) => family.includes(network) && family.includes(node));
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS leases (
    node TEXT PRIMARY KEY,
    subnet TEXT NOT NULL UNIQUE,
    public_ip TEXT NOT NULL UNIQUE,
    backend_type TEXT NOT NULL,
    backend_data TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    updated_at TEXT NOT NULL
  );`;

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
    super(file, SCHEMA);
    this.keepConfig<NetworkConfig>(config, (old) =>
      old.network !== config.network ||
      old.subnetLength !== config.subnetLength ||
      old.backend.type !== config.backend.type
        ? `${file} holds leases of network ${old.network}/${old.subnetLength} (${old.backend.type}), ` +
          `not ${config.network}/${config.subnetLength} (${config.backend.type})`
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
    const leases = rows.map(toLease).sort((a, b) => parseCidr(a.subnet).base - parseCidr(b.subnet).base);
    return { index: this.index, leases };
  }

  /** The node other than `node` whose lease holds VTEP MAC `mac` (lower case), if any. */
  private vtepOwner(mac: string, node: string): string | undefined {
    const rows = this.db.prepare('SELECT node, backend_data FROM leases WHERE node <> ?').all(node) as {
      node: string;
      backend_data: string;
    }[];
    return rows.find((r) => (JSON.parse(r.backend_data) as { vtepMac?: string }).vtepMac?.toLowerCase() === mac)?.node;
  }

  /** Grants, or renews keeping the subnet. Throws INVALID_INPUT or CONFLICT naming the field. */
  acquire(req: LeaseRequest): Lease {
    if (!wireCompatible(this.config.backend.type, req.backendType)) {
      throw new CnilabError(
        'INVALID_INPUT',
        `backendType: ${JSON.stringify(req.backendType)} does not match the network's backend ` +
          `${JSON.stringify(this.config.backend.type)}`,
      );
    }
    const data = req.backendData ?? {};
    for (const key of REQUIRED_DATA[req.backendType] ?? []) {
      if (data[key] === undefined)
        throw new CnilabError('INVALID_INPUT', `backendData.${key}: is required for backend ${req.backendType}`);
    }
    if (data.vtepMac !== undefined && !MAC.test(data.vtepMac))
      throw new CnilabError(
        'INVALID_INPUT',
        `backendData.vtepMac: ${JSON.stringify(data.vtepMac)} is not a MAC address like 0a:1b:2c:3d:4e:5f`,
      );
    parseIPv4(req.publicIp);
    return this.transaction((): Lease => {
      this.expire();
      const clash = this.db
        .prepare('SELECT node FROM leases WHERE public_ip = ? AND node <> ?')
        .get(req.publicIp, req.node) as { node: string } | undefined;
      if (clash) throw new CnilabError('CONFLICT', `publicIp: ${req.publicIp} is already leased to node ${clash.node}`);
      // Peers map a VTEP's MAC to its lease: another node's MAC would take that node's traffic.
      const mac = data.vtepMac?.toLowerCase();
      const twin = mac === undefined ? undefined : this.vtepOwner(mac, req.node);
      if (twin) throw new CnilabError('CONFLICT', `backendData.vtepMac: ${data.vtepMac} is node ${twin}'s VTEP`);
      const existing = this.db.prepare('SELECT * FROM leases WHERE node = ?').get(req.node) as Row | undefined;
      const row: Row = {
        node: req.node,
        subnet: existing?.subnet ?? this.freeSubnet(),
        public_ip: req.publicIp,
        backend_type: req.backendType,
        backend_data: JSON.stringify(data),
        expires_at: this.now() + this.ttlSec * 1000,
        updated_at: new Date(this.now()).toISOString(),
      };
      this.db
        .prepare(
          'INSERT INTO leases VALUES (@node, @subnet, @public_ip, @backend_type, @backend_data, @expires_at, ' +
            '@updated_at) ON CONFLICT(node) DO UPDATE SET public_ip = @public_ip, backend_type = @backend_type, ' +
            'backend_data = @backend_data, expires_at = @expires_at, updated_at = @updated_at',
        )
        .run(row);
      // A renewal that changes nothing peers see does not wake the watchers.
      const changed = !existing || existing.public_ip !== row.public_ip || existing.backend_data !== row.backend_data;
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
      (this.db.prepare('SELECT subnet FROM leases').all() as { subnet: string }[]).map((r) => parseCidr(r.subnet).base),
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
}

function toLease(r: Row): Lease {
  return {
    node: r.node,
    subnet: r.subnet,
    publicIp: r.public_ip,
    backendType: r.backend_type,
    backendData: JSON.parse(r.backend_data) as Record<string, string>,
    expiresAt: new Date(r.expires_at).toISOString(),
    updatedAt: r.updated_at,
  };
}
