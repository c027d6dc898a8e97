/**
 * The topology file: containerlab-style `name` + `topology`, validated here and resolved into a
 * pure `Topology` (no I/O). Building it is the Lab's job.
 */
import { z } from 'zod';
import { effectiveLink, linkFields, linkSchema, linkSpec, type LinkSpec } from './link';
import { containsIPv4, formatIPv4, isStrictCidr, overlaps, parseCidr, addressAt, cidrSize } from '../lib/ip';
import { labels as labelsSchema, NODE_LABEL, POD_LABEL, serviceSpecSchema, type Labels } from '../apiserver/model';
import { checkServices, DEFAULT_SERVICE_CIDR } from './services';
import {
  checkFamilies,
  cidr6,
  DEFAULT_POD_CIDR_V6,
  DEFAULT_SUBNET_LENGTH_V6,
  DEFAULT_UNDERLAY_V6,
  ipFamiliesSchema,
  toFamily,
  v6At,
  v6Hint,
} from './families';
import type { Family } from '../lib/ip';

export const MAX_COMPUTE_NODES = 64;
/**
 * Pods per node: no fixed cap beyond what a node subnet holds (checked against subnetLength);
 * what the machine holds is checked before a lab is built (lab/capacity.ts).
 */
export const MAX_PODS_PER_NODE = 65533;
/** The underlay MTUs a topology (and --underlay-mtu) may have. */
export const MTU_MIN = 1280;
export const MTU_MAX = 9000;
/** Where underlay addresses must come from: RFC 2544's benchmarking range. */
export const BENCHMARK_RANGE = '198.18.0.0/15';

const NAME = /^[a-z][a-z0-9-]{0,14}$/;
const RESERVED = ['switch', 'pod'];
const nodeName = z
  .string()
  .regex(NAME, 'must be 1–15 characters: a lowercase letter, then lowercase letters, digits or -')
  .refine((s) => !RESERVED.includes(s), `"switch" and "pod" are reserved`);

/** An IPv4 range with no host bits set; an IPv6 one is named as such, with `ipv6Field`, where it belongs. */
const cidrString = (ipv6Field?: string): z.ZodType<string> =>
  z.string().superRefine((s, ctx) => {
    const v6 = ipv6Field === undefined ? undefined : v6Hint(s, ipv6Field);
    if (v6) ctx.addIssue({ code: 'custom', message: v6 });
    else if (!isStrictCidr(s))
      ctx.addIssue({ code: 'custom', message: 'must be an IPv4 CIDR with no host bits set, like 10.244.0.0/16' });
  });

const nodeSchema = z.strictObject({
  role: z.enum(['control', 'compute']),
  /** Pods on this compute node. Default: topology.defaults.pods. */
  pods: z.number().int().min(0).max(MAX_PODS_PER_NODE).optional(),
  /** This node's link to the switch (rate, delay, loss), over topology.underlay's. Default: the lab-wide one. */
  link: linkSchema.optional(),
  /** Labels of this compute node's pods, beside the two every pod gets (cnilab.io/node, cnilab.io/pod). */
  labels: labelsSchema
    .refine((l) => !(NODE_LABEL in l) && !(POD_LABEL in l), `${NODE_LABEL} and ${POD_LABEL} are every pod's own`)
    .optional(),
});

export const labNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,31}$/,
    'must be 1–32 characters of lowercase letters, digits and -, starting with a letter or digit',
  );

export const topologyFileSchema = z
  .strictObject({
    name: labNameSchema.default('cnilab'),
    topology: z
      .strictObject({
        defaults: z.strictObject({ pods: z.number().int().min(0).max(MAX_PODS_PER_NODE).default(2) }).prefault({}),
        underlay: z
          .strictObject({
            cidr: cidrString('underlay.cidr6').default('198.18.0.0/24'),
            /** The underlay's IPv6 range, used when ipFamilies has ipv6: inside 2001:2::/48 (RFC 5180). */
            cidr6: cidr6('underlay.cidr').default(DEFAULT_UNDERLAY_V6),
            mtu: z.number().int().min(MTU_MIN).max(MTU_MAX).default(1500),
            /**
             * Link emulation of every node's link to the switch (lab-wide); nodes.<name>.link overrides it field by
             * field.
             */
            ...linkFields,
          })
          .prefault({}),
        /** Which families pods get (docs/ipv6.md): [ipv4] (default), [ipv6], or dual-stack [ipv4, ipv6]. */
        ipFamilies: ipFamiliesSchema,
        podCidr: cidrString('podCidr6').default('10.244.0.0/16'),
        subnetLength: z.number().int().min(16).max(28).default(24),
        /** The pods' IPv6 range and each node's prefix length in it, used when ipFamilies has ipv6. */
        podCidr6: cidr6('podCidr').default(DEFAULT_POD_CIDR_V6),
        subnetLength6: z.number().int().min(48).max(120).default(DEFAULT_SUBNET_LENGTH_V6),
        /**
         * Duplicate address detection on pods' IPv6 addresses where the plugin makes it a choice (bridge's
         * `enabledad`): false, as the reference leaves it; macvlan's pods have it either way (docs/ipv6.md).
         */
        ipv6Dad: z.boolean().default(false),
        /**
         * BIG TCP (docs/big-tcp.md): GSO/GRO sizes of 192 KiB, IPv6's and IPv4's, on the pods' devices and the nodes'
         * (their underlay device, their switch port, the bridge where there is one), the MTU unchanged. Only the
         * architectures that declare it can (ebpf-native, calico-bgp, flannel-host-gw, …); others refuse it.
         */
        bigTcp: z.boolean().default(false),
        /** Shorthand: one node named "control" and compute nodes node1…nodeN. Ignored when `nodes` is given. */
        computeNodes: z.number().int().default(3),
        nodes: z.record(nodeName, nodeSchema).optional(),
        /**
         * The Service proxy every compute node runs (docs/services.md): iptables, nftables, ipvs, ebpf, checked
         * against the modes cnilab has when the lab is built. Default: none — pods talk to pod addresses.
         */
        proxy: z
          .string()
          .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a proxy mode name, like nftables')
          .optional(),
        /**
         * Which of the kind's NetworkPolicy designs every compute node runs (docs/policy.md): iptables or
         * nftables for calico-*, ebpf for ebpf-*; none: no policy agent. Default: the kind's first that
         * enforces on the pods' ipFamilies (none for ebpf-* with IPv6: its design is IPv4 only).
         */
        policyDataplane: z
          .string()
          .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a policy design name, like nftables')
          .optional(),
        /** The Services (docs/services.md): their ClusterIP range, and those the lab creates at up. */
        services: z
          .strictObject({ cidr: cidrString().optional(), list: z.array(serviceSpecSchema).default([]) })
          .prefault({}),
      })
      .prefault({}),
  })
  .superRefine((f, ctx) => {
    const t = f.topology;
    const issue = (path: (string | number)[], message: string): void =>
      ctx.addIssue({ code: 'custom', path: ['topology', ...path], message });
    const nodes = t.nodes === undefined ? undefined : Object.entries(t.nodes);
    const compute = nodes ? nodes.filter(([, n]) => n.role === 'compute').length : t.computeNodes;
    if (!isStrictCidr(t.underlay.cidr) || !isStrictCidr(t.podCidr)) return; // their own issues say why
    const underlay = parseCidr(t.underlay.cidr);
    const pods = parseCidr(t.podCidr);
    if (!containsIPv4(parseCidr(BENCHMARK_RANGE), underlay.base) || underlay.prefix < 15)
      issue(
        ['underlay', 'cidr'],
        `${t.underlay.cidr} must lie inside ${BENCHMARK_RANGE} (RFC 2544, reserved for benchmarking)`,
      );
    if (overlaps(underlay, pods))
      issue(['podCidr'], `${t.podCidr} overlaps the underlay ${t.underlay.cidr}; pick a range apart from it`);
    checkServices(t, issue);
    if (t.subnetLength <= pods.prefix)
      issue(['subnetLength'], `/${t.subnetLength} must be longer than podCidr's /${pods.prefix}`);
    const field = nodes ? ['nodes'] : ['computeNodes'];
    if (compute < 1 || compute > MAX_COMPUTE_NODES)
      issue(field, `${compute} compute nodes: must be from 1 to ${MAX_COMPUTE_NODES}`);
    if (nodes && nodes.filter(([, n]) => n.role === 'control').length !== 1)
      issue(['nodes'], 'must have exactly one node with role: control');
    const subnets = 2 ** Math.max(0, t.subnetLength - pods.prefix) - 1; // the first subnet is never leased
    if (compute > subnets)
      issue(
        ['podCidr'],
        `${t.podCidr} holds ${subnets} /${t.subnetLength} node subnets, fewer than ${compute} compute nodes`,
      );
    // host-local hands out a node subnet's addresses but its network, gateway (.1) and broadcast.
    const perSubnet = 2 ** (32 - t.subnetLength) - 3;
    const tooMany = nodes
      ? nodes.filter(([, n]) => n.role === 'compute' && (n.pods ?? t.defaults.pods) > perSubnet)
      : t.defaults.pods > perSubnet
        ? [['', { pods: t.defaults.pods }] as const]
        : [];
    for (const [name, n] of tooMany.slice(0, 1)) {
      const pods = n.pods ?? t.defaults.pods;
      const fits = 32 - Math.ceil(Math.log2(pods + 3));
      issue(
        name && n.pods !== undefined ? ['nodes', name, 'pods'] : ['defaults', 'pods'],
        `${pods} pods on a node, but a /${t.subnetLength} node subnet holds ${perSubnet}; set subnetLength: ${fits} ` +
          `or shorter (and a podCidr with room for the nodes)`,
      );
    }
    if ((nodes?.length ?? compute + 1) > cidrSize(underlay) - 2)
      issue(['underlay', 'cidr'], `${t.underlay.cidr} has too few addresses for ${nodes?.length ?? compute + 1} nodes`);
    checkFamilies(t, compute, nodes?.length ?? compute + 1, issue);
  });

export type TopologyFile = z.output<typeof topologyFileSchema>;

export interface NodeSpec {
  readonly name: string;
  readonly role: 'control' | 'compute';
  /** Underlay address with prefix, e.g. 198.18.0.2/24. */
  readonly underlay: string;
  readonly underlayIp: string;
  /**
   * Its IPv6 underlay address with prefix (2001:2::2/64) and without: the lab gives it to the node when a family
   * is 6.
   */
  readonly underlay6: string;
  readonly underlayIp6: string;
  /** This node's own link fields (nodes.<name>.link), over the lab-wide ones: see `nodeLink`. */
  readonly link?: LinkSpec;
}

export interface PodSpec {
  readonly name: string;
  readonly node: string;
  /** Its node's `labels`, when the topology gives any (the API server adds cnilab.io/node and cnilab.io/pod). */
  readonly labels?: Labels;
}

/** A validated, resolved topology: everything the Lab needs, nothing it has to compute. */
export interface Topology {
  readonly name: string;
  /** `link`: the lab-wide link emulation (topology.underlay's rate, delay, loss), when any. */
  readonly underlay: { readonly cidr: string; readonly cidr6: string; readonly mtu: number; readonly link?: LinkSpec };
  /** The families pods get, the first the one a run measures unless --ip-family says (docs/ipv6.md). */
  readonly ipFamilies: readonly Family[];
  readonly podCidr: string;
  readonly subnetLength: number;
  readonly podCidr6: string;
  readonly subnetLength6: number;
  /** DAD on pods' IPv6 addresses where the plugin makes it a choice (bridge's enabledad); absent: off. */
  readonly ipv6Dad?: boolean;
  /** BIG TCP's GSO/GRO sizes on the pods' and nodes' devices (docs/big-tcp.md); absent: the kernel's 64 KiB. */
  readonly bigTcp?: boolean;
  readonly nodes: readonly NodeSpec[];
  readonly pods: readonly PodSpec[];
  /** The Service proxy mode on every compute node; undefined: none. */
  readonly proxy?: string;
  /** The NetworkPolicy design every compute node runs ('none': no agent); undefined: the kind's first. */
  readonly policyDataplane?: string;
  /** The ClusterIP range, and the Services created at up. */
  readonly services?: { readonly cidr?: string; readonly list: readonly ServiceSpecFile[] };
}

export type ServiceSpecFile = z.output<typeof serviceSpecSchema>;

/**
 * The topology's Service range: the one it names, else the default — unless the default overlaps
 * its other ranges (a topology from before Services, using none): then it has no range, and its lab
 * no API server (lab/services.ts).
 */
function serviceRange(t: TopologyFile['topology']): { cidr?: string } {
  if (t.services.cidr !== undefined) return { cidr: t.services.cidr };
  const d = parseCidr(DEFAULT_SERVICE_CIDR);
  const clear = !overlaps(d, parseCidr(t.podCidr)) && !overlaps(d, parseCidr(t.underlay.cidr));
  return clear ? { cidr: DEFAULT_SERVICE_CIDR } : {};
}

export function resolveTopology(f: TopologyFile): Topology {
  const t = f.topology;
  type Entry = { role: 'control' | 'compute'; pods?: number | undefined; link?: LinkFile; labels?: Labels | undefined };
  const entries: [string, Entry][] = t.nodes
    ? Object.entries(t.nodes)
    : [
        ['control', { role: 'control' }],
        ...Array.from(
          { length: t.computeNodes },
          (_, i) => [`node${i + 1}`, { role: 'compute' as const }] as [string, { role: 'compute' }],
        ),
      ];
  // Control node first, then compute nodes in file order; underlay addresses .1, .2, …
  entries.sort(([, a], [, b]) => (a.role === b.role ? 0 : a.role === 'control' ? -1 : 1));
  const underlay = parseCidr(t.underlay.cidr);
  const nodes = entries.map(([name, n], i): NodeSpec => {
    const ip = formatIPv4(addressAt(underlay, i + 1));
    const ip6 = v6At(t.underlay.cidr6, i + 1);
    const link = n.link ? linkSpec(n.link) : undefined;
    return {
      name,
      role: n.role,
      underlayIp: ip,
      underlay: `${ip}/${underlay.prefix}`,
      underlayIp6: ip6,
      underlay6: `${ip6}/${t.underlay.cidr6.split('/')[1]}`,
      ...(link ? { link } : {}),
    };
  });
  const pods = entries.flatMap(([name, n]) =>
    n.role === 'compute'
      ? Array.from({ length: n.pods ?? t.defaults.pods }, (_, i): PodSpec => ({
          name: `${name}-p${i + 1}`,
          node: name,
          ...(n.labels ? { labels: n.labels } : {}),
        }))
      : [],
  );
  const { cidr, cidr6, mtu } = t.underlay;
  const link = linkSpec(t.underlay);
  return {
    name: f.name,
    underlay: { cidr, cidr6, mtu, ...(link ? { link } : {}) },
    ipFamilies: t.ipFamilies.map(toFamily),
    podCidr: t.podCidr,
    subnetLength: t.subnetLength,
    podCidr6: t.podCidr6,
    subnetLength6: t.subnetLength6,
    ...(t.ipv6Dad ? { ipv6Dad: true } : {}),
    ...(t.bigTcp ? { bigTcp: true } : {}),
    nodes,
    pods,
    ...(t.proxy !== undefined ? { proxy: t.proxy } : {}),
    ...(t.policyDataplane !== undefined ? { policyDataplane: t.policyDataplane } : {}),
    services: { ...serviceRange(t), list: t.services.list },
  };
}

type LinkFile = z.output<typeof linkSchema>;

/** The topology with another underlay MTU and lab-wide link fields (a scenario's `underlay`, field by field). */
export function withUnderlay(t: Topology, o: { mtu?: number; link?: LinkFile }): Topology {
  const link = effectiveLinkFields(t.underlay.link, o.link ? linkSpec(o.link) : undefined);
  const { cidr, cidr6, mtu } = t.underlay;
  return { ...t, underlay: { cidr, cidr6, mtu: o.mtu ?? mtu, ...(link ? { link } : {}) } };
}

function effectiveLinkFields(a: LinkSpec | undefined, b: LinkSpec | undefined): LinkSpec | undefined {
  const l = { ...a, ...b };
  return Object.keys(l).length ? l : undefined;
}

/** The link emulation of a node's link to the switch, or undefined when it has none. */
export function nodeLink(topology: Pick<Topology, 'underlay'>, node: Pick<NodeSpec, 'link'>): LinkSpec | undefined {
  return effectiveLink(topology.underlay.link, node.link);
}
