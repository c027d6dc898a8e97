/**
 * The topology's IP families (docs/ipv6.md): which families pods get (`ipFamilies`), and the IPv6
 * ranges beside the IPv4 ones — the underlay's (RFC 5180's benchmarking range, 2001:2::/48) and the
 * pods' with its per-node prefix length. Every field has a default, so `ipFamilies: [ipv6]` alone
 * is a whole IPv6 topology. The underlay carries IPv4 in every lab (the control planes' API
 * servers listen there); it carries IPv6 too when a family is 6, and pods' IPv6 traffic crosses it
 * in IPv6, as flannel's and Calico's IPv6 paths do.
 */
import { z } from 'zod';
import { bitsOf, contains, formatAddr, lastOf, parsePrefix, type Family, type Prefix } from '../lib/ip';

/** Where IPv6 underlay addresses must come from: RFC 5180's benchmarking range. */
export const BENCHMARK_RANGE_V6 = '2001:2::/48';
export const DEFAULT_UNDERLAY_V6 = '2001:2::/64';
export const DEFAULT_POD_CIDR_V6 = 'fd00:10:244::/56';
/** A node's IPv6 pod prefix, flannel's default (IPv6SubnetLen 64) and Kubernetes' node-cidr-mask-size-ipv6. */
export const DEFAULT_SUBNET_LENGTH_V6 = 64;

/** `ipv4`/`ipv6` as Kubernetes writes them, or 4/6. */
const family = z.union([z.enum(['ipv4', 'ipv6']), z.literal(4), z.literal(6)], {
  error: 'must be ipv4 or ipv6 (or 4 or 6)',
});

export const ipFamiliesSchema = z
  .array(family)
  .min(1, 'must name at least one family: [ipv4], [ipv6] or [ipv4, ipv6]')
  .max(2, 'has at most two families: [ipv4, ipv6]')
  .default(['ipv4']);

export function toFamily(f: z.output<typeof family>): Family {
  return f === 'ipv4' || f === 4 ? 4 : 6;
}

/** An IPv6 range with no host bits set; an IPv4 one is named as such, with the field it belongs in. */
export function cidr6(ipv4Field: string): z.ZodType<string> {
  return z.string().superRefine((s, ctx) => {
    const p = parsePrefix(s);
    if (p?.family === 4)
      ctx.addIssue({ code: 'custom', message: `${s} is an IPv4 range: give it in ${ipv4Field}, and an IPv6 one here` });
    else if (!p)
      ctx.addIssue({ code: 'custom', message: 'must be an IPv6 CIDR with no host bits set, like fd00::/56' });
    else if (p.base !== p.addr.value)
      ctx.addIssue({
        code: 'custom',
        message: `${s} has host bits set; did you mean ${formatAddr({ family: 6, value: p.base })}/${p.length}?`,
      });
  });
}

/** The IPv6 twin of a field that must hold IPv4 (its error names the IPv6 field). */
export function v6Hint(s: string, ipv6Field: string): string | undefined {
  return parsePrefix(s)?.family === 6
    ? `${s} is an IPv6 range: give it in ${ipv6Field}, and an IPv4 one here`
    : undefined;
}

const overlap = (a: Prefix, b: Prefix): boolean => a.base <= lastOf(b) && b.base <= lastOf(a);

type Issue = (path: (string | number)[], message: string) => void;

interface Fields {
  readonly ipFamilies: readonly z.output<typeof family>[];
  readonly underlay: { readonly cidr6: string };
  readonly podCidr6: string;
  readonly subnetLength6: number;
}

/** Issues, field by field, of the families and the IPv6 ranges (checked whether or not a family is 6: defaults hold). */
export function checkFamilies(t: Fields, computeNodes: number, nodes: number, issue: Issue): void {
  const fams = t.ipFamilies.map(toFamily);
  if (new Set(fams).size < fams.length)
    issue(['ipFamilies'], `names ${fams[0] === 4 ? 'IPv4' : 'IPv6'} twice; dual-stack is [ipv4, ipv6]`);
  const underlay = parsePrefix(t.underlay.cidr6);
  const pods = parsePrefix(t.podCidr6);
  if (!underlay || !pods || underlay.family !== 6 || pods.family !== 6) return; // the field's own issue says why
  const range = parsePrefix(BENCHMARK_RANGE_V6)!;
  if (!contains(range, { family: 6, value: underlay.base }) || underlay.length < range.length)
    issue(
      ['underlay', 'cidr6'],
      `${t.underlay.cidr6} must lie inside ${BENCHMARK_RANGE_V6} (RFC 5180, reserved for benchmarking)`,
    );
  if (underlay.length > 120)
    issue(['underlay', 'cidr6'], `${t.underlay.cidr6} is too small: give a /120 or larger (a /64 is usual)`);
  else if (2n ** BigInt(bitsOf(6) - underlay.length) - 2n < BigInt(nodes))
    issue(['underlay', 'cidr6'], `${t.underlay.cidr6} has too few addresses for ${nodes} nodes`);
  if (overlap(underlay, pods))
    issue(['podCidr6'], `${t.podCidr6} overlaps the underlay ${t.underlay.cidr6}; pick a range apart from it`);
  if (t.subnetLength6 <= pods.length)
    issue(['subnetLength6'], `/${t.subnetLength6} must be longer than podCidr6's /${pods.length}`);
  else if (2 ** Math.min(30, t.subnetLength6 - pods.length) - 1 < computeNodes)
    issue(
      ['podCidr6'],
      `${t.podCidr6} holds ${2 ** (t.subnetLength6 - pods.length) - 1} /${t.subnetLength6} node prefixes, ` +
        `fewer than ${computeNodes} compute nodes; give a shorter prefix or a longer subnetLength6`,
    );
}

/** The i-th address of an IPv6 prefix, written canonically. */
export function v6At(cidr: string, i: number): string {
  const p = parsePrefix(cidr)!;
  return formatAddr({ family: 6, value: p.base + BigInt(i) });
}

/** The i-th node prefix of `length` inside `cidr` (IPv6). */
export function v6SubnetAt(cidr: string, length: number, i: number): string {
  const p = parsePrefix(cidr)!;
  return `${formatAddr({ family: 6, value: p.base + (BigInt(i) << BigInt(bitsOf(6) - length)) })}/${length}`;
}
