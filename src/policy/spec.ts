/**
 * A Kubernetes NetworkPolicy as a user writes it (networking.k8s.io/v1, the file `kubectl apply`
 * takes), validated and defaulted as the Kubernetes API server validates it
 * (pkg/apis/networking/validation: ValidateNetworkPolicy), into the NetworkPolicy of model.ts.
 * Every refusal names the field the way Kubernetes does — `spec.ingress[0].ports[0].port` — and
 * says what is wrong and what would be right. Where cnilab is narrower than Kubernetes it says so:
 * a named port (pods here declare no container ports) and IPv6 blocks (issue 35) are refused.
 */
import { z } from 'zod';
import { labelKey, labelValue } from '../apiserver/model';
import { CnilabError } from '../lib/errors';
import { containsIPv4, isStrictCidr, parseCidr } from '../lib/ip';
import {
  POD_NAMESPACE,
  type LabelSelector,
  type NetworkPolicy,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
} from './model';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A field path in Kubernetes' notation: spec.ingress[0].from[1].ipBlock.cidr. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

const selectorSchema = z.strictObject({
  matchLabels: z.record(labelKey, labelValue).optional(),
  matchExpressions: z
    .array(
      z
        .strictObject({
          key: labelKey,
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist'], {
            error: 'Unsupported value: supported values: "In", "NotIn", "Exists", "DoesNotExist"',
          }),
          values: z.array(labelValue).optional(),
        })
        .superRefine((e, ctx) => {
          const has = (e.values?.length ?? 0) > 0;
          if ((e.operator === 'In' || e.operator === 'NotIn') && !has)
            ctx.addIssue({
              code: 'custom',
              path: ['values'],
              message: `Required value: must be specified when operator is ${e.operator}`,
            });
          if (
            (e.operator === 'Exists' || e.operator === 'DoesNotExist') &&
            e.values !== undefined &&
            e.values.length > 0
          )
            ctx.addIssue({
              code: 'custom',
              path: ['values'],
              message: `Forbidden: may not be specified when operator is ${e.operator}`,
            });
        }),
    )
    .optional(),
});

const ipBlockSchema = z
  .strictObject({ cidr: z.string(), except: z.array(z.string()).optional() })
  .superRefine((b, ctx) => {
    const cidrOk = (v: string, path: (string | number)[]): boolean => {
      if (v.includes(':')) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `Invalid value: ${JSON.stringify(v)}: IPv6 blocks are not supported here yet; give an IPv4 CIDR`,
        });
        return false;
      }
      if (!isStrictCidr(v)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `Invalid value: ${JSON.stringify(v)}: must be a valid CIDR, like 10.0.0.0/16 (no host bits set)`,
        });
        return false;
      }
      return true;
    };
    if (!cidrOk(b.cidr, ['cidr'])) return;
    const outer = parseCidr(b.cidr);
    (b.except ?? []).forEach((e, i) => {
      if (!cidrOk(e, ['except', i])) return;
      const inner = parseCidr(e);
      if (inner.prefix <= outer.prefix || !containsIPv4(outer, inner.ip))
        ctx.addIssue({
          code: 'custom',
          path: ['except', i],
          message: `Invalid value: ${JSON.stringify(e)}: must be a strict subset of \`cidr\` ${b.cidr}`,
        });
    });
  });

const peerSchema = z
  .strictObject({
    podSelector: selectorSchema.optional(),
    namespaceSelector: selectorSchema.optional(),
    ipBlock: ipBlockSchema.optional(),
  })
  .superRefine((p, ctx) => {
    const selectors = p.podSelector !== undefined || p.namespaceSelector !== undefined;
    if (!selectors && p.ipBlock === undefined)
      ctx.addIssue({ code: 'custom', path: [], message: 'Required value: must specify a peer' });
    if (selectors && p.ipBlock !== undefined)
      ctx.addIssue({ code: 'custom', path: [], message: 'Forbidden: may not specify both ipBlock and another peer' });
  });

const portSchema = z
  .strictObject({
    protocol: z
      .enum(['TCP', 'UDP', 'SCTP'], { error: 'Unsupported value: supported values: "SCTP", "TCP", "UDP"' })
      .default('TCP'),
    port: z.union([z.number(), z.string()]).optional(),
    endPort: z.number().optional(),
  })
  .superRefine((p, ctx) => {
    if (typeof p.port === 'string') {
      ctx.addIssue({
        code: 'custom',
        path: ['port'],
        message: `Invalid value: ${JSON.stringify(p.port)}: named ports are not supported here (pods declare no container ports); give a number`,
      });
      return;
    }
    if (p.port !== undefined && (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535))
      ctx.addIssue({
        code: 'custom',
        path: ['port'],
        message: `Invalid value: ${p.port}: must be between 1 and 65535, inclusive`,
      });
    if (p.endPort === undefined) return;
    if (p.port === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['endPort'],
        message: 'Required value: may not be specified when `port` is not specified',
      });
    else if (!Number.isInteger(p.endPort) || p.endPort < p.port || p.endPort > 65535)
      ctx.addIssue({
        code: 'custom',
        path: ['endPort'],
        message: `Invalid value: ${p.endPort}: must be greater than or equal to \`port\` and at most 65535`,
      });
  });

const ingressSchema = z.strictObject({ from: z.array(peerSchema).optional(), ports: z.array(portSchema).optional() });
const egressSchema = z.strictObject({ to: z.array(peerSchema).optional(), ports: z.array(portSchema).optional() });

const policySchema = z.strictObject({
  apiVersion: z.literal('networking.k8s.io/v1', { error: 'Unsupported value: must be "networking.k8s.io/v1"' }),
  kind: z.literal('NetworkPolicy', { error: 'Unsupported value: must be "NetworkPolicy"' }),
  metadata: z.looseObject({
    name: z
      .string({ error: 'Required value: name is required' })
      .max(253, 'Invalid value: must be no more than 253 characters')
      .regex(
        DNS_SUBDOMAIN,
        "Invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
      ),
    namespace: z.string().regex(DNS_LABEL, 'Invalid value: a lowercase RFC 1123 label').optional(),
  }),
  spec: z.strictObject({
    podSelector: selectorSchema,
    policyTypes: z
      .array(z.enum(['Ingress', 'Egress'], { error: 'Unsupported value: supported values: "Egress", "Ingress"' }))
      .max(2)
      .optional(),
    ingress: z.array(ingressSchema).optional(),
    egress: z.array(egressSchema).optional(),
  }),
});

const selector = (s: z.output<typeof selectorSchema>): LabelSelector => ({
  ...(s.matchLabels && Object.keys(s.matchLabels).length ? { matchLabels: s.matchLabels } : {}),
  ...(s.matchExpressions?.length
    ? {
        matchExpressions: s.matchExpressions.map((e) => ({
          key: e.key,
          operator: e.operator,
          ...(e.values?.length ? { values: e.values } : {}),
        })),
      }
    : {}),
});

function peer(p: z.output<typeof peerSchema>): PolicyPeer {
  return {
    ...(p.podSelector ? { podSelector: selector(p.podSelector) } : {}),
    ...(p.namespaceSelector ? { namespaceSelector: selector(p.namespaceSelector) } : {}),
    ...(p.ipBlock
      ? { ipBlock: { cidr: p.ipBlock.cidr, ...(p.ipBlock.except?.length ? { except: p.ipBlock.except } : {}) } }
      : {}),
  };
}

function rule(
  peers: readonly z.output<typeof peerSchema>[] | undefined,
  ports: readonly z.output<typeof portSchema>[] | undefined,
): PolicyRule {
  return {
    ...(peers?.length ? { peers: peers.map(peer) } : {}),
    ...(ports?.length
      ? {
          ports: ports.map((p): PolicyPort => ({
            protocol: p.protocol.toLowerCase() as PolicyPort['protocol'],
            ...(typeof p.port === 'number' ? { port: p.port } : {}),
            ...(p.endPort !== undefined ? { endPort: p.endPort } : {}),
          })),
        }
      : {}),
  };
}

/**
 * `doc` (a parsed YAML or JSON document) as a NetworkPolicy, or INVALID_INPUT naming the field:
 * "spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive".
 */
export function toPolicy(doc: unknown): NetworkPolicy {
  const r = policySchema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const unknown = i.code === 'unrecognized_keys' ? `: unknown field ${JSON.stringify(i.keys[0])}` : '';
    const path = fieldPath(i.path);
    const message = i.code === 'unrecognized_keys' ? `Unsupported field${unknown}; check its spelling` : i.message;
    throw new CnilabError('INVALID_INPUT', `${path || 'document'}: ${message}`);
  }
  const { metadata, spec } = r.data;
  const types = spec.policyTypes ?? (spec.egress !== undefined ? ['Ingress', 'Egress'] : ['Ingress']);
  return {
    name: metadata.name,
    namespace: metadata.namespace ?? POD_NAMESPACE,
    podSelector: selector(spec.podSelector),
    policyTypes: [...new Set(types)].sort() as NetworkPolicy['policyTypes'],
    ingress: (spec.ingress ?? []).map((x) => rule(x.from, x.ports)),
    egress: (spec.egress ?? []).map((x) => rule(x.to, x.ports)),
  };
}
