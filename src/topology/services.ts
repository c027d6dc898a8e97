/** The topology's `services`: a ClusterIP range apart from the lab's others, and a list the API server would take. */
import { containsIPv4, cidrSize, overlaps, parseCidr, parseIPv4 } from '../lib/ip';

type Issue = (path: (string | number)[], message: string) => void;

interface Fields {
  readonly underlay: { readonly cidr: string };
  readonly podCidr: string;
  readonly proxy?: string | undefined;
  readonly services: {
    /** Undefined: DEFAULT_SERVICE_CIDR. */
    readonly cidr?: string | undefined;
    readonly list: readonly { readonly name: string; readonly clusterIp?: string | undefined }[];
  };
}

/** The ClusterIP range of a topology that names none (kube's is 10.96.0.0/12). */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';

/**
 * Issues (field by field) for a service range overlapping the underlay or the pods, and Services
 * clashing. The default range is held to it only when the topology uses Services (a proxy or a
 * list): a topology from before them, whose podCidr covers 10.96.0.0/16, stays valid.
 */
export function checkServices(t: Fields, issue: Issue): void {
  const cidr = t.services.cidr ?? DEFAULT_SERVICE_CIDR;
  const range = parseCidr(cidr);
  const used = t.services.cidr !== undefined || t.proxy !== undefined || t.services.list.length > 0;
  for (const [field, other] of [
    ['underlay', t.underlay.cidr],
    ['podCidr', t.podCidr],
  ] as const)
    if (used && overlaps(range, parseCidr(other)))
      issue(['services', 'cidr'], `${cidr} overlaps ${field} ${other}; pick a range apart from it`);
  if (range.prefix < 12 || range.prefix > 28) issue(['services', 'cidr'], `${cidr} must be from /12 to /28`);
  const names = new Set<string>();
  const ips = new Set<string>();
  t.services.list.forEach((s, i) => {
    if (names.has(s.name)) issue(['services', 'list', i, 'name'], `Service ${s.name} is there twice`);
    names.add(s.name);
    if (s.clusterIp === undefined) return;
    const n = parseIPv4(s.clusterIp);
    if (!containsIPv4(range, n) || n === range.base || n === range.base + cidrSize(range) - 1)
      issue(['services', 'list', i, 'clusterIp'], `${s.clusterIp} is not a host address of ${cidr}`);
    if (ips.has(s.clusterIp)) issue(['services', 'list', i, 'clusterIp'], `${s.clusterIp} is another Service's`);
    ips.add(s.clusterIp);
  });
}
