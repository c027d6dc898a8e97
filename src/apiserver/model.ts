/**
 * The cluster's objects as the API server keeps them: pods (a name, a node, an address, labels) and
 * Services (a ClusterIP, ports, and either a label selector or a list of pods). One schema for each
 * object, shared by the HTTP API, the topology file and the CLI, so every door refuses the same
 * input with the same field named.
 */
import { z } from 'zod';
import { ipFamily, isIPv4 } from '../lib/ip';
import type { Protocol } from '../proxy/model';

/** Labels every pod carries, set by the store from the pod itself: selectors pick pods without topology edits. */
export const NODE_LABEL = 'cnilab.io/node';
export const POD_LABEL = 'cnilab.io/pod';

/** A DNS-1123 label: a pod's name, a label's name part. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A Service's name: a DNS-1035 label, as kube wants it (it becomes a DNS name). */
const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A port's name: IANA_SVC_NAME, at most 15 characters. */
const PORT_NAME = /^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/;
/** A label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const NODE = /^[a-z][a-z0-9-]{0,14}$/;

export const podName = z.string().regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and -');
export const nodeName = z.string().regex(NODE, 'must be a node name');
export const labelKey = z
  .string()
  .max(253 + 1 + 63)
  .regex(LABEL_KEY, 'must be a label key: [prefix/]name, letters, digits, - _ .');
export const labelValue = z.string().regex(LABEL_VALUE, 'must be a label value: ≤63 letters, digits, - _ .');
export const labels = z.record(labelKey, labelValue).refine((l) => Object.keys(l).length <= 64, 'at most 64 labels');
const ipv4 = z.string().refine(isIPv4, 'must be an IPv4 address');
/** A pod's address: its first family's, IPv6 in an IPv6-only lab (docs/ipv6.md). */
const podAddress = z.string().refine((s) => ipFamily(s) !== 0 && !s.includes('%'), 'must be an IPv4 or IPv6 address');
const portNumber = z.number().int().min(1).max(65535);

export type Labels = Readonly<Record<string, string>>;

export interface Pod {
  readonly name: string;
  readonly node: string;
  readonly ip: string;
  /** With NODE_LABEL and POD_LABEL always among them. */
  readonly labels: Labels;
}

export const podBody = z.strictObject({ node: nodeName, ip: podAddress, labels: labels.optional() });
export const labelsBody = z.strictObject({ labels });

export const servicePortSchema = z.strictObject({
  name: z
    .string()
    .regex(PORT_NAME, 'must be a port name: ≤15 lowercase letters, digits, -')
    .or(z.literal(''))
    .default(''),
  port: portNumber,
  targetPort: portNumber.optional(),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
});

/** A Service as asked for: its ClusterIP is allocated when not given. */
export const serviceSpecSchema = z
  .strictObject({
    name: z.string().regex(SERVICE_NAME, 'must be a DNS-1035 label: a lowercase letter, then letters, digits, -'),
    clusterIp: ipv4.optional(),
    ports: z.array(servicePortSchema).min(1, 'a Service needs at least one port').max(100),
    selector: labels.refine((l) => Object.keys(l).length > 0, 'must name at least one label').optional(),
    pods: z.array(podName).max(1000).optional(),
    affinitySeconds: z.number().int().min(1).max(86400).optional(),
  })
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if ((s.selector === undefined) === (s.pods === undefined))
      issue(['selector'], 'give exactly one of selector and pods');
    if (s.pods && new Set(s.pods).size !== s.pods.length) issue(['pods'], 'names a pod twice');
    const names = new Set<string>();
    const keys = new Set<string>();
    s.ports.forEach((p, i) => {
      if (s.ports.length > 1 && p.name === '')
        issue(['ports', i, 'name'], 'every port of a multi-port Service is named');
      if (names.has(p.name)) issue(['ports', i, 'name'], `${JSON.stringify(p.name)} is taken by another port`);
      if (keys.has(`${p.port}/${p.protocol}`)) issue(['ports', i, 'port'], `${p.port}/${p.protocol} is there twice`);
      names.add(p.name);
      keys.add(`${p.port}/${p.protocol}`);
    });
  });

export type ServiceSpec = z.input<typeof serviceSpecSchema>;

export interface ServicePort {
  /** '' for a Service's only port. */
  readonly name: string;
  readonly port: number;
  readonly targetPort: number;
  readonly protocol: Protocol;
}

/** A Service as the store holds it. */
export interface Service {
  readonly name: string;
  readonly clusterIp: string;
  readonly ports: readonly ServicePort[];
  readonly selector?: Labels;
  readonly pods?: readonly string[];
  readonly affinitySeconds?: number;
}

/** One pod behind a Service, for every port of it (each endpoint port is the Service port's targetPort). */
export interface EndpointPod {
  readonly pod: string;
  readonly node: string;
  readonly ip: string;
}

/** A Service as the API answers it: with its endpoints, sorted by ip. */
export interface ServiceView extends Service {
  readonly endpoints: readonly EndpointPod[];
}

/** The store's configuration: where ClusterIPs come from, and the pods' range. */
export interface ApiConfig {
  readonly serviceCidr: string;
  readonly clusterCidr: string;
  /** The pods' IPv6 range, in a lab whose pods have IPv6 (docs/ipv6.md). Default: none (IPv4 pods only). */
  readonly clusterCidr6?: string;
}

/** The first zod issue of `error`, as one line naming the field: "services.2.ports.0.port: …". */
export function firstIssue(error: z.ZodError, prefix = ''): string {
  const i = error.issues[0]!;
  const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
  return `${path || 'body'}: ${i.message}`;
}
