/**
 * Calico-style IPAM by blocks, the role Calico's IPAM blocks and block affinities (in etcd or the
 * Kubernetes API) play: a pool (the lab's pod CIDR) cut into blocks (/26 by default); a node
 * claims a free block the first time it needs an address and the block stays affine to it; more
 * blocks are claimed as its pods grow. Each allocation is one address for one handle (one
 * container's interface). The store also holds the nodes — underlay address and VXLAN tunnel
 * endpoint — which the node agents follow to program their peers.
 *
 * Kept in SQLite (WAL, synchronous=FULL) like the lease store: an allocation is on disk before it
 * is acknowledged. Every change peers see (a node registered or gone, a block claimed or freed)
 * bumps `index`; watchers long-poll for an index above the one they saw. Allocations alone do not
 * bump it: peers route blocks, never addresses.
 */
import {
  addressAt,
  formatAddr,
  parseAddr,
  parsePrefix,
  type Family,
  cidrSize,
  containsIPv4,
  formatCidr,
  formatIPv4,
  parseCidr,
  parseIPv4,
  subnetAt,
  type Cidr,
} from '../../lib/ip';
import { CnilabError } from '../../lib/errors';
import { RevisionedStore } from '../../node/revisioned-store';

export const CALICO_MODES = ['bgp', 'vxlan', 'ipip'] as const;
export type CalicoMode = (typeof CALICO_MODES)[number];

export interface PoolConfig {
  /** The pool, e.g. 10.244.0.0/16. */
  readonly pool: string;
  /** Block prefix length: 26 (64 addresses), as Calico's default. */
  readonly blockSize: number;
  readonly mode: CalicoMode;
  /** The IPv6 pool (a dual-stack or IPv6 lab), e.g. fd00:10:244::/56. Default: none, IPv4 only. */
  readonly pool6?: string;
  /** IPv6 block prefix length: 122 (64 addresses), Calico's default. */
  readonly blockSize6?: number;
}

/** Calico's default IPv6 block: /122, 64 addresses as the IPv4 /26. */
export const BLOCK_SIZE6 = 122;

export interface CalicoNode {
  readonly name: string;
  /** Underlay address: BGP peering and VXLAN underlay. */
  readonly ip: string;
  /** The node's IPv6 underlay address (an IPv6 or dual-stack lab): its IPv6 BGP sessions. */
  readonly ip6?: string;
  /** vxlan mode: the node's VXLAN device MAC and its tunnel address (from its first block). */
  readonly vtepMac?: string;
  readonly vtepIp?: string;
  /** With WireGuard: the node's public key, and its device's address (from its first block). */
  readonly wireguardPublicKey?: string;
  readonly wireguardIp?: string;
}

export interface Block {
  readonly cidr: string;
  readonly node: string;
  readonly allocated: number;
}

export interface Allocation {
  readonly ip: string;
  readonly block: string;
  readonly handle: string;
  readonly node: string;
}

export interface IpamState {
  readonly index: number;
  readonly config: PoolConfig;
  readonly nodes: readonly CalicoNode[];
  readonly blocks: readonly Block[];
}

/** IPv6 addresses or prefixes in numeric order. */
function compare6(a: string, b: string): number {
  const x = parsePrefix(a.includes('/') ? a : `${a}/128`)!.base;
  const y = parsePrefix(b.includes('/') ? b : `${b}/128`)!.base;
  return x < y ? -1 : x > y ? 1 : 0;
}

const HANDLE = /^[\x21-\x7e]{1,256}$/;

/** One-line reason why `config` cannot serve `nodes` compute nodes, or undefined. */
export function poolProblem(config: PoolConfig, nodes: number): string | undefined {
  if (!(CALICO_MODES as readonly string[]).includes(config.mode))
    return `mode: ${JSON.stringify(config.mode)} is not one of ${CALICO_MODES.join(', ')}`;
  const pool = parseCidr(config.pool, true);
  if (!Number.isInteger(config.blockSize) || config.blockSize < 20 || config.blockSize > 30)
    return `blockSize: /${config.blockSize} must be between /20 and /30`;
  if (config.blockSize < pool.prefix) return `blockSize: /${config.blockSize} is larger than the pool ${config.pool}`;
  const blocks = 2 ** (config.blockSize - pool.prefix);
  if (blocks < nodes)
    return (
      `pool: ${config.pool} holds ${blocks} /${config.blockSize} block(s), fewer than one per node (${nodes} ` +
      `compute nodes); use a larger pool`
    );
  return pool6Problem(config, nodes);
}

function pool6Problem(config: PoolConfig, nodes: number): string | undefined {
  if (config.pool6 === undefined) return undefined;
  const pool = parsePrefix(config.pool6);
  if (!pool || pool.family !== 6 || pool.base !== pool.addr.value)
    return `pool6: ${JSON.stringify(config.pool6)} is not an IPv6 network like fd00:10:244::/56`;
  const size = config.blockSize6 ?? BLOCK_SIZE6;
  if (!Number.isInteger(size) || size < 116 || size > 128) return `blockSize6: /${size} must be between /116 and /128`;
  if (size < pool.length) return `blockSize6: /${size} is larger than the pool ${config.pool6}`;
  if (2n ** BigInt(size - pool.length) < BigInt(nodes))
    return (
      `pool6: ${config.pool6} holds ${2 ** (size - pool.length)} /${size} block(s), fewer than one per node ` +
      `(${nodes} compute nodes); use a larger pool`
    );
  return undefined;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS nodes (
    name TEXT PRIMARY KEY, ip TEXT NOT NULL UNIQUE, vtep_mac TEXT, vtep_ip TEXT, wg_key TEXT, wg_ip TEXT
  );
  CREATE TABLE IF NOT EXISTS blocks (base INTEGER PRIMARY KEY, cidr TEXT NOT NULL, node TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS allocations (
    ip INTEGER PRIMARY KEY, block INTEGER NOT NULL REFERENCES blocks(base), handle TEXT NOT NULL, node TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS allocations_handle ON allocations(handle);
  CREATE TABLE IF NOT EXISTS blocks6 (cidr TEXT PRIMARY KEY, node TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS allocations6 (
    ip TEXT PRIMARY KEY, block TEXT NOT NULL REFERENCES blocks6(cidr), handle TEXT NOT NULL, node TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS allocations6_handle ON allocations6(handle);`;

/** A row of allocations6: the address and its block written canonically. */
interface Allocation6Row {
  ip: string;
  block: string;
  handle: string;
  node: string;
}

/** A row of the nodes table. */
interface NodeRow {
  name: string;
  ip: string;
  ip6: string | null;
  vtep_mac: string | null;
  vtep_ip: string | null;
  wg_key: string | null;
  wg_ip: string | null;
}

export class IpamStore extends RevisionedStore {
  private readonly pool: Cidr;
  readonly config: PoolConfig;

  constructor(file: string, config: PoolConfig) {
    const problem = poolProblem(config, 1);
    if (problem) throw new CnilabError('INVALID_INPUT', problem);
    super(file, SCHEMA);
    // A store made before WireGuard or IPv6 (its file kept across a controller's restart) gains its columns;
    // the IPv6 tables are made by SCHEMA (IF NOT EXISTS).
    const columns = (this.db.prepare('PRAGMA table_info(nodes)').all() as { name: string }[]).map((c) => c.name);
    for (const c of ['wg_key', 'wg_ip', 'ip6'])
      if (!columns.includes(c)) this.db.exec(`ALTER TABLE nodes ADD COLUMN ${c} TEXT`);
    this.keepConfig<PoolConfig>(config, (old) =>
      old.pool !== config.pool || old.blockSize !== config.blockSize || old.mode !== config.mode
        ? `${file} holds the pool ${old.pool} (/${old.blockSize} blocks, ${old.mode}), not ${config.pool} ` +
          `(/${config.blockSize}, ${config.mode})`
        : // An IPv6 pool may be added to a file that had none (no IPv6 block yet), never changed.
          old.pool6 !== undefined && (old.pool6 !== config.pool6 || old.blockSize6 !== config.blockSize6)
          ? `${file} holds the IPv6 pool ${old.pool6} (/${old.blockSize6 ?? BLOCK_SIZE6} blocks), not ` +
            `${config.pool6 ?? 'none'}`
          : undefined,
    );
    this.pool = parseCidr(config.pool, true);
    this.config = config;
  }

  snapshot(): IpamState {
    const nodes = (this.db.prepare('SELECT * FROM nodes ORDER BY name').all() as NodeRow[]).map((r) => ({
      name: r.name,
      ip: r.ip,
      ...(r.ip6 ? { ip6: r.ip6 } : {}),
      ...(r.vtep_mac ? { vtepMac: r.vtep_mac } : {}),
      ...(r.vtep_ip ? { vtepIp: r.vtep_ip } : {}),
      ...(r.wg_key ? { wireguardPublicKey: r.wg_key } : {}),
      ...(r.wg_ip ? { wireguardIp: r.wg_ip } : {}),
    }));
    const blocks = this.db
      .prepare(
        'SELECT b.cidr AS cidr, b.node AS node, COUNT(a.ip) AS allocated FROM blocks b LEFT JOIN allocations a ON ' +
          'a.block = b.base GROUP BY b.base ORDER BY b.base',
      )
      .all() as Block[];
    const blocks6 = this.db
      .prepare(
        'SELECT b.cidr AS cidr, b.node AS node, COUNT(a.ip) AS allocated FROM blocks6 b LEFT JOIN allocations6 a ON ' +
          'a.block = b.cidr GROUP BY b.cidr',
      )
      .all() as Block[];
    blocks.push(...blocks6.sort((a, b) => compare6(a.cidr, b.cidr)));
    return { index: this.index, config: this.config, nodes, blocks };
  }

  /**
   * Peers route a node's blocks to its VTEP: a VTEP MAC or address another node has, or an address
   * in another node's block, would take that node's traffic. CONFLICT naming the field.
   */
  /** What a node registers that is another's: its VTEP, its WireGuard key, a tunnel address in another's block. */
  private refuseOthers(node: CalicoNode): void {
    const others = this.db.prepare('SELECT * FROM nodes WHERE name <> ?').all(node.name) as NodeRow[];
    const mac = node.vtepMac?.toLowerCase();
    const macTwin = mac === undefined ? undefined : others.find((o) => o.vtep_mac?.toLowerCase() === mac);
    if (macTwin) throw new CnilabError('CONFLICT', `vtepMac: ${node.vtepMac} is node ${macTwin.name}'s VTEP`);
    const key = node.wireguardPublicKey;
    const keyTwin = key === undefined ? undefined : others.find((o) => o.wg_key === key);
    if (keyTwin)
      throw new CnilabError('CONFLICT', `wireguardPublicKey: ${key} is node ${keyTwin.name}'s WireGuard key`);
    const blocks = this.db.prepare('SELECT cidr, node FROM blocks WHERE node <> ?').all(node.name) as {
      cidr: string;
      node: string;
    }[];
    for (const [field, what] of [
      ['vtepIp', 'VTEP'],
      ['wireguardIp', 'WireGuard address'],
    ] as const) {
      const addr = node[field];
      if (addr === undefined) continue;
      const twin = others.find((o) => o.vtep_ip === addr || o.wg_ip === addr);
      if (twin) throw new CnilabError('CONFLICT', `${field}: ${addr} is node ${twin.name}'s ${what}`);
      const ip = parseIPv4(addr);
      const block = blocks.find((b) => containsIPv4(parseCidr(b.cidr), ip));
      if (block) throw new CnilabError('CONFLICT', `${field}: ${addr} is in node ${block.node}'s block ${block.cidr}`);
    }
  }

  /** Registers a node or updates it; peers are woken only when something they see changed. */
  putNode(node: CalicoNode): CalicoNode {
    parseIPv4(node.ip);
    if (node.ip6 !== undefined && parseAddr(node.ip6)?.family !== 6)
      throw new CnilabError('INVALID_INPUT', `ip6: ${JSON.stringify(node.ip6)} is not an IPv6 address`);
    return this.transaction((): CalicoNode => {
      const clash = this.db.prepare('SELECT name FROM nodes WHERE ip = ? AND name <> ?').get(node.ip, node.name) as
        { name: string } | undefined;
      if (clash) throw new CnilabError('CONFLICT', `ip: ${node.ip} is already node ${clash.name}'s`);
      const clash6 =
        node.ip6 === undefined
          ? undefined
          : (this.db.prepare('SELECT name FROM nodes WHERE ip6 = ? AND name <> ?').get(node.ip6, node.name) as
              { name: string } | undefined);
      if (clash6) throw new CnilabError('CONFLICT', `ip6: ${node.ip6} is already node ${clash6.name}'s`);
      this.refuseOthers(node);
      const row: NodeRow = {
        name: node.name,
        ip: node.ip,
        ip6: node.ip6 ?? null,
        vtep_mac: node.vtepMac ?? null,
        vtep_ip: node.vtepIp ?? null,
        wg_key: node.wireguardPublicKey ?? null,
        wg_ip: node.wireguardIp ?? null,
      };
      const old = this.db.prepare('SELECT * FROM nodes WHERE name = ?').get(node.name) as NodeRow | undefined;
      this.db
        .prepare(
          'INSERT INTO nodes (name, ip, ip6, vtep_mac, vtep_ip, wg_key, wg_ip) VALUES (@name, @ip, @ip6, @vtep_mac, ' +
            '@vtep_ip, @wg_key, @wg_ip) ON CONFLICT(name) DO UPDATE SET ip = @ip, ip6 = @ip6, vtep_mac = @vtep_mac, vtep_ip = @vtep_ip, wg_key = @wg_key, wg_ip = @wg_ip',
        )
        .run(row);
      if (!old || (Object.keys(row) as (keyof NodeRow)[]).some((k) => old[k] !== row[k])) this.bump();
      return node;
    });
  }

  /** A node leaves: it, its blocks and their allocations are gone. False when it was unknown. */
  deleteNode(name: string): boolean {
    return this.transaction((): boolean => {
      this.db.prepare('DELETE FROM allocations WHERE node = ?').run(name);
      this.db.prepare('DELETE FROM allocations6 WHERE node = ?').run(name);
      const blocks =
        this.db.prepare('DELETE FROM blocks WHERE node = ?').run(name).changes +
        this.db.prepare('DELETE FROM blocks6 WHERE node = ?').run(name).changes;
      const gone = this.db.prepare('DELETE FROM nodes WHERE name = ?').run(name).changes > 0;
      if (gone || blocks > 0) this.bump();
      return gone;
    });
  }

  /**
   * One address for `handle` on `node`, from a block affine to the node, claiming a new block when
   * those are full. The same handle asked again gets the address it holds (a retried ADD). One
   * address per family: `family` 6 takes it from the IPv6 pool's blocks (NOT_FOUND without one).
   */
  assign(handle: string, node: string, family: Family = 4): Allocation {
    if (!HANDLE.test(handle)) throw new CnilabError('INVALID_INPUT', 'handle: must be 1–256 printable characters');
    return this.transaction((): Allocation => {
      if (!this.db.prepare('SELECT 1 FROM nodes WHERE name = ?').get(node))
        throw new CnilabError('NOT_FOUND', `node: ${node} is not registered (is its agent running?)`);
      if (family === 6) return this.assign6(handle, node);
      const held = this.db.prepare('SELECT * FROM allocations WHERE handle = ? AND node = ?').get(handle, node) as
        { ip: number; block: number; handle: string; node: string } | undefined;
      if (held) return this.allocation(held);
      const blocks = (
        this.db.prepare('SELECT base FROM blocks WHERE node = ? ORDER BY base').all(node) as {
          base: number;
        }[]
      ).map((b) => b.base);
      for (const base of blocks) {
        const ip = this.freeIn(base);
        if (ip !== undefined) return this.insert(ip, base, handle, node);
      }
      const base = this.claimBlock(node);
      return this.insert(this.freeIn(base)!, base, handle, node);
    });
  }

  /**
   * Releases every address `handle` holds — only those on `node` when given (a node's own release:
   * another node's addresses under the same handle stay); a block left empty stays affine (Calico
   * keeps it).
   */
  release(handle: string, node?: string): number {
    return this.transaction((): number => {
      let n = 0;
      for (const table of ['allocations', 'allocations6'])
        n +=
          node !== undefined
            ? this.db.prepare(`DELETE FROM ${table} WHERE handle = ? AND node = ?`).run(handle, node).changes
            : this.db.prepare(`DELETE FROM ${table} WHERE handle = ?`).run(handle).changes;
      return n;
    });
  }

  /** The nodes holding addresses for `handle` (none for an unknown handle). */
  handleOwners(handle: string): string[] {
    const rows = this.db
      .prepare('SELECT node FROM allocations WHERE handle = ? UNION SELECT node FROM allocations6 WHERE handle = ?')
      .all(handle, handle) as { node: string }[];
    return rows.map((r) => r.node);
  }

  /** Releases `node`'s handles that start with `prefix` and are not in `keep`; returns them. */
  gc(node: string, prefix: string, keep: readonly string[]): string[] {
    return this.transaction((): string[] => {
      const keepSet = new Set(keep);
      const rows = this.db
        .prepare('SELECT handle FROM allocations WHERE node = ? UNION SELECT handle FROM allocations6 WHERE node = ?')
        .all(node, node) as { handle: string }[];
      const gone = rows.map((r) => r.handle).filter((h) => h.startsWith(prefix) && !keepSet.has(h));
      for (const table of ['allocations', 'allocations6']) {
        const del = this.db.prepare(`DELETE FROM ${table} WHERE handle = ? AND node = ?`);
        for (const h of gone) del.run(h, node);
      }
      return gone;
    });
  }

  allocations(node?: string): Allocation[] {
    const rows = (
      node === undefined
        ? this.db.prepare('SELECT * FROM allocations ORDER BY ip').all()
        : this.db.prepare('SELECT * FROM allocations WHERE node = ? ORDER BY ip').all(node)
    ) as { ip: number; block: number; handle: string; node: string }[];
    const rows6 = (
      node === undefined
        ? this.db.prepare('SELECT * FROM allocations6').all()
        : this.db.prepare('SELECT * FROM allocations6 WHERE node = ?').all(node)
    ) as Allocation6Row[];
    return [...rows.map((r) => this.allocation(r)), ...rows6.sort((a, b) => compare6(a.ip, b.ip))];
  }

  /** IPv6: as assign, from the IPv6 pool's blocks (addresses kept as canonical text). */
  private assign6(handle: string, node: string): Allocation {
    if (this.config.pool6 === undefined)
      throw new CnilabError('NOT_FOUND', `family: 6 asked for, but the IPAM has no IPv6 pool (topology.podCidr6)`);
    const held = this.db.prepare('SELECT * FROM allocations6 WHERE handle = ? AND node = ?').get(handle, node) as
      Allocation6Row | undefined;
    if (held) return { ...held };
    const blocks = (this.db.prepare('SELECT cidr FROM blocks6 WHERE node = ?').all(node) as { cidr: string }[])
      .map((b) => b.cidr)
      .sort(compare6);
    for (const block of blocks) {
      const ip = this.freeIn6(block);
      if (ip !== undefined) return this.insert6(ip, block, handle, node);
    }
    const block = this.claimBlock6(node);
    return this.insert6(this.freeIn6(block)!, block, handle, node);
  }

  private insert6(ip: string, block: string, handle: string, node: string): Allocation {
    this.db.prepare('INSERT INTO allocations6 VALUES (?, ?, ?, ?)').run(ip, block, handle, node);
    return { ip, block, handle, node };
  }

  private freeIn6(block: string): string | undefined {
    const p = parsePrefix(block)!;
    const used = new Set(
      (this.db.prepare('SELECT ip FROM allocations6 WHERE block = ?').all(block) as { ip: string }[]).map((r) => r.ip),
    );
    const size = 1n << BigInt(128 - p.length);
    for (let i = 0n; i < size; i++) {
      const ip = formatAddr({ family: 6, value: p.base + i });
      if (!used.has(ip)) return ip;
    }
    return undefined;
  }

  /** The lowest free IPv6 block of the pool, claimed for `node`. */
  private claimBlock6(node: string): string {
    const pool = parsePrefix(this.config.pool6!)!;
    const size = this.config.blockSize6 ?? BLOCK_SIZE6;
    const step = 1n << BigInt(128 - size);
    const taken = new Set(
      (this.db.prepare('SELECT cidr FROM blocks6').all() as { cidr: string }[]).map((b) => parsePrefix(b.cidr)!.base),
    );
    const count = 1n << BigInt(size - pool.length);
    for (let i = 0n; i < count; i++) {
      const base = pool.base + i * step;
      if (taken.has(base)) continue;
      const cidr = `${formatAddr({ family: 6, value: base })}/${size}`;
      this.db.prepare('INSERT INTO blocks6 VALUES (?, ?)').run(cidr, node);
      this.bump();
      return cidr;
    }
    throw new CnilabError('CONFLICT', `pool ${this.config.pool6} has no free /${size} block left for node ${node}`);
  }

  private allocation(r: { ip: number; block: number; handle: string; node: string }): Allocation {
    return {
      ip: formatIPv4(r.ip),
      block: formatCidr({ base: r.block, prefix: this.config.blockSize }),
      handle: r.handle,
      node: r.node,
    };
  }

  private insert(ip: number, block: number, handle: string, node: string): Allocation {
    this.db.prepare('INSERT INTO allocations VALUES (?, ?, ?, ?)').run(ip, block, handle, node);
    return this.allocation({ ip, block, handle, node });
  }

  /** The lowest free address of a block (every address is usable: pods hold /32s). */
  private freeIn(base: number): number | undefined {
    const block = { base, prefix: this.config.blockSize };
    const used = new Set(
      (this.db.prepare('SELECT ip FROM allocations WHERE block = ?').all(base) as { ip: number }[]).map((r) => r.ip),
    );
    for (let i = 0; i < cidrSize(block); i++) if (!used.has(addressAt(block, i))) return addressAt(block, i);
    return undefined;
  }

  private claimBlock(node: string): number {
    const taken = new Set((this.db.prepare('SELECT base FROM blocks').all() as { base: number }[]).map((b) => b.base));
    const count = 2 ** (this.config.blockSize - this.pool.prefix);
    for (let i = 0; i < count; i++) {
      const b = subnetAt(this.pool, this.config.blockSize, i);
      if (taken.has(b.base)) continue;
      this.db.prepare('INSERT INTO blocks VALUES (?, ?, ?)').run(b.base, formatCidr(b), node);
      this.bump();
      return b.base;
    }
    throw new CnilabError(
      'CONFLICT',
      `pool ${this.config.pool} has no free /${this.config.blockSize} block left for node ${node}`,
    );
  }
}
