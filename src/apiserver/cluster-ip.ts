/**
 * ClusterIPs: every Service's address from the service range, each used once. A given address must
 * be a host address of the range (not its network or broadcast address) and free; otherwise the
 * lowest free one is taken. The range's first host address (10.96.0.1 of 10.96.0.0/16) is never
 * handed out unasked: kube's apiserver keeps it for the `kubernetes` Service; asking for it by
 * name is allowed. Allocation keeps a cursor below which every address is taken, so a batch of
 * 30,000 costs one pass over the range, not one per Service.
 */
import { CnilabError } from '../lib/errors';
import { cidrSize, isIPv4, parseCidr, parseIPv4, type Cidr } from '../lib/ip';

export class ClusterIps {
  private readonly used = new Set<number>();
  private readonly range: Cidr;
  /** Every address below it (from the first handed out) is taken. */
  private cursor: number;

  constructor(readonly cidr: string) {
    this.range = parseCidr(cidr, true);
    this.cursor = this.range.base + 2;
  }

  /** The address `ip` (given for the field `field`), checked: in the range, a host address, free. */
  check(ip: string, field: string, taken: ReadonlySet<number> = new Set()): number {
    if (!isIPv4(ip)) throw new CnilabError('INVALID_INPUT', `${field}: ${JSON.stringify(ip)} is not an IPv4 address`);
    const n = parseIPv4(ip);
    const last = this.range.base + cidrSize(this.range) - 1;
    if (n <= this.range.base || n >= last)
      throw new CnilabError(
        'INVALID_INPUT',
        `${field}: ${ip} is not a host address of the service range ${this.cidr} (nor its network or broadcast address)`,
      );
    if (this.used.has(n) || taken.has(n))
      throw new CnilabError('CONFLICT', `${field}: ${ip} is the ClusterIP of another Service`);
    return n;
  }

  /**
   * The lowest free address (not the range's first) from `from` on, beside those in `taken`;
   * CONFLICT when the range is full. A batch passes the one after its last, so it walks the range once.
   */
  next(taken: ReadonlySet<number>, from = 0): number {
    const last = this.range.base + cidrSize(this.range) - 1;
    let n = Math.max(this.cursor, from);
    while (n < last && (this.used.has(n) || taken.has(n))) n++;
    if (n >= last) throw new CnilabError('CONFLICT', `clusterIp: the service range ${this.cidr} is full`);
    return n;
  }

  /** Marks `ip` used (a created Service's); moves the cursor past a prefix of used addresses. */
  take(ip: string): void {
    this.used.add(parseIPv4(ip));
    while (this.used.has(this.cursor)) this.cursor++;
  }

  /** Frees `ip` (a removed Service's). */
  release(ip: string): void {
    const n = parseIPv4(ip);
    this.used.delete(n);
    if (n >= this.range.base + 2 && n < this.cursor) this.cursor = n;
  }
}
