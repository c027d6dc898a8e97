/** The topology's `services`: a ClusterIP range apart from the lab's others, and a list the API server would take. */
import { containsIPv4, cidrSize, overlaps, parseCidr, parseIPv4 } from '../lib/ip';

type Issue = (path: (string | number)[], message: string) => void;

interface Fields {
  readonly underlay: { readonly cidr: string };
  readonly podCidr: string;
  readonly services: {
    readonly cidr: string;
    readonly list: readonly { readonly name: string; readonly clusterIp?: string | undefined }[];
  };
}

/** Issues (field by field) for a service range overlapping the underlay or the pods, and Services clashing. */
export function checkServices(t: Fields, issue: Issue): void {
  const range = parseCidr(t.services.cidr);
  for (const [field, other] of [
    ['underlay', t.underlay.cidr],
    ['podCidr', t.podCidr],
  ] as const)
    if (overlaps(range, parseCidr(other)))
      issue(['services', 'cidr'], `${t.services.cidr} overlaps ${field} ${other}; pick a range apart from it`);
  if (range.prefix < 12 || range.prefix > 28) issue(['services', 'cidr'], `${t.services.cidr} must be from /12 to /28`);
  const names = new Set<string>();
  const ips = new Set<string>();
  t.services.list.forEach((s, i) => {
    if (names.has(s.name)) issue(['services', 'list', i, 'name'], `Service ${s.name} is there twice`);
    names.add(s.name);
    if (s.clusterIp === undefined) return;
    const n = parseIPv4(s.clusterIp);
    if (!containsIPv4(range, n) || n === range.base || n === range.base + cidrSize(range) - 1)
      issue(['services', 'list', i, 'clusterIp'], `${s.clusterIp} is not a host address of ${t.services.cidr}`);
    if (ips.has(s.clusterIp)) issue(['services', 'list', i, 'clusterIp'], `${s.clusterIp} is another Service's`);
    ips.add(s.clusterIp);
  });
}
