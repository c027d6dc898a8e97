/** How the port controller picks a port's address and MAC (pure, over what is in use). */
import { randomBytes } from 'node:crypto';
import { CnilabError } from '../../lib/errors';
import { addressAt, cidrSize, containsIPv4, formatIPv4, parseCidr, parseIPv4 } from '../../lib/ip';
import type { Subnet } from './model';

/** Neutron's default base MAC: fa:16:3e is OpenStack's locally administered prefix. */
const MAC_PREFIX = 'fa:16:3e';

/** The requested address if it is a free host address of the subnet, else the first free one of its pools. */
export function chooseAddress(subnet: Subnet, used: ReadonlySet<string>, requested?: string): string {
  if (requested !== undefined) {
    const cidr = parseCidr(subnet.cidr);
    const n = parseIPv4(requested);
    if (!containsIPv4(cidr, n) || n === cidr.base || n === addressAt(cidr, cidrSize(cidr) - 1))
      throw new CnilabError(
        'INVALID_INPUT',
        `port.fixed_ips.ip_address: ${requested} is not a host address of ${subnet.cidr}`,
      );
    if (used.has(requested))
      throw new CnilabError('CONFLICT', `port.fixed_ips.ip_address: ${requested} is in use on ${subnet.cidr}`);
    return requested;
  }
  for (const p of subnet.allocationPools) {
    for (let a = parseIPv4(p.start); a <= parseIPv4(p.end); a++) if (!used.has(formatIPv4(a))) return formatIPv4(a);
  }
  throw new CnilabError('CONFLICT', `port.fixed_ips: no free address left in subnet ${subnet.cidr}`);
}

/** The requested MAC if free, else a random one under OpenStack's prefix that is free. */
export function chooseMac(inUse: (mac: string) => boolean, requested?: string): string {
  if (requested !== undefined) {
    if (inUse(requested)) throw new CnilabError('CONFLICT', `port.mac_address: ${requested} is in use`);
    return requested;
  }
  let mac: string;
  do mac = `${MAC_PREFIX}:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
  while (inUse(mac));
  return mac;
}
