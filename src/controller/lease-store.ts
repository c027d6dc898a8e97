/**
 * Subnet leases, the role etcd or the Kubernetes API plays for flannel: the network configuration
 * and one subnet per node, with the node's underlay address and its backend's data (e.g. the VTEP
 * MAC). Kept in a JSON file rewritten atomically on every change, so a restart loses nothing.
 * Every change bumps `index`; watchers wait for an index above the one they saw.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseCidr, formatCidr, subnetAt, parseIPv4 } from '../lib/cidr';
import { CnilabError } from '../lib/errors';

export interface NetworkConfig {
  /** The pod network, e.g. 10.244.0.0/16. */
  readonly network: string;
  readonly subnetLength: number;
  /** The agents' backend: none, host-gw, vxlan. */
  readonly backend: string;
}

export interface Lease {
  readonly node: string;
  readonly subnet: string;
  readonly publicIp: string;
  readonly backendData: Readonly<Record<string, string>>;
  readonly updatedAt: string;
}

export interface LeaseRequest {
  readonly node: string;
  readonly publicIp: string;
  readonly backendData?: Readonly<Record<string, string>>;
}

interface Persisted {
  readonly config: NetworkConfig;
  readonly index: number;
  readonly leases: Lease[];
}

export class LeaseStore {
  private index = 0;
  private leases: Lease[] = [];
  private waiters = new Set<() => void>();

  constructor(
    private readonly file: string,
    readonly config: NetworkConfig,
  ) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Persisted;
      if (saved.config.network !== config.network || saved.config.subnetLength !== config.subnetLength) {
        throw new CnilabError('INVALID_INPUT', `${file} holds leases of network ${saved.config.network}/${saved.config.subnetLength}, not ${config.network}/${config.subnetLength}`);
      }
      this.index = saved.index;
      this.leases = saved.leases;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  snapshot(): { index: number; leases: readonly Lease[] } {
    return { index: this.index, leases: this.leases };
  }

  /** Grants (or renews, keeping the subnet) the node's lease. */
  acquire(req: LeaseRequest): Lease {
    const ip = parseIPv4(req.publicIp);
    const clash = this.leases.find((l) => l.node !== req.node && parseIPv4(l.publicIp) === ip);
    if (clash) throw new CnilabError('DUPLICATE', `publicIp ${req.publicIp} is already leased to node ${clash.node}`);
    const existing = this.leases.find((l) => l.node === req.node);
    const lease: Lease = {
      node: req.node,
      subnet: existing?.subnet ?? this.freeSubnet(),
      publicIp: req.publicIp,
      backendData: { ...(req.backendData ?? {}) },
      updatedAt: new Date().toISOString(),
    };
    this.leases = [...this.leases.filter((l) => l.node !== req.node), lease].sort((a, b) => a.subnet.localeCompare(b.subnet, 'en', { numeric: true }));
    this.commit();
    return lease;
  }

  release(node: string): boolean {
    const before = this.leases.length;
    this.leases = this.leases.filter((l) => l.node !== node);
    if (this.leases.length === before) return false;
    this.commit();
    return true;
  }

  /** Resolves when the index passes `index`, or after `timeoutMs`. */
  waitForChange(index: number, timeoutMs: number): Promise<void> {
    if (this.index > index) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  private freeSubnet(): string {
    const network = parseCidr(this.config.network);
    const count = 2 ** (this.config.subnetLength - network.prefix);
    const used = new Set(this.leases.map((l) => parseCidr(l.subnet).base));
    for (let i = 1; i < count; i++) {
      const s = subnetAt(network, this.config.subnetLength, i);
      if (!used.has(s.base)) return formatCidr(s);
    }
    throw new CnilabError('INVALID_INPUT', `network ${this.config.network} has no free /${this.config.subnetLength} subnet left`);
  }

  private commit(): void {
    this.index++;
    const data: Persisted = { config: this.config, index: this.index, leases: this.leases };
    writeFileSync(`${this.file}.tmp`, JSON.stringify(data, null, 2));
    renameSync(`${this.file}.tmp`, this.file);
    for (const w of [...this.waiters]) w();
  }
}

