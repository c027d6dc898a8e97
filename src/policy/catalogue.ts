/**
 * The catalogue of policy cases every design is checked on: each a set of policies over the lab's
 * pods (labelled by `catalogueLabels`), probed as a full matrix against the oracle. Pods get `app`
 * a, b, c in turn, so every label meets every node. The cases are what users write and what
 * implementations have got wrong (cyclonus's generated cases, in small): default deny each way,
 * allow from a selector, ipBlock with except, egress to ports and a range, overlapping policies,
 * selector expressions, and a policy applied then deleted (`then: 'delete'`: the matrix after the
 * deletion must be the open one).
 */
import type { Labels } from '../apiserver/model';
import { formatCidr, parseCidr, parseIPv4 } from '../lib/ip';
import type { NetworkPolicy, PolicyRule } from './model';

export const APPS = ['a', 'b', 'c'] as const;

/** Labels of the catalogue for pods in name order: app a, b, c, a, … */
export function catalogueLabels(pods: readonly string[]): Map<string, Labels> {
  return new Map([...pods].sort().map((p, i) => [p, { app: APPS[i % APPS.length]! }]));
}

export interface CatalogueCase {
  readonly name: string;
  readonly about: string;
  readonly policies: readonly NetworkPolicy[];
  /** 'delete': after the matrix with them, delete them and check the matrix again. */
  readonly then?: 'delete';
}

/** The lab's pods as the catalogue needs them: names and addresses. */
export interface CataloguePod {
  readonly name: string;
  readonly ip: string;
}

const pol = (name: string, o: Partial<NetworkPolicy>): NetworkPolicy => ({
  name,
  namespace: 'default',
  podSelector: {},
  policyTypes: ['Ingress'],
  ingress: [],
  egress: [],
  ...o,
});
const app = (a: string) => ({ matchLabels: { app: a } });
const from = (a: string): PolicyRule['peers'] => [{ podSelector: app(a) }];

/** The cases for a lab of `pods` in `podCidr`. */
export function catalogue(pods: readonly CataloguePod[], podCidr: string): CatalogueCase[] {
  const sorted = [...pods].sort((x, y) => (x.name < y.name ? -1 : 1));
  // the except block: the /24 holding the first pod of app b (its node's subnet, or part of it)
  const b = sorted[1] ?? sorted[0]!;
  const wide = parseCidr(podCidr);
  const cut = Math.max(24, wide.prefix + 1);
  const mask = cut === 32 ? 0xffffffff : ~(0xffffffff >>> cut);
  const except = formatCidr({ base: (parseIPv4(b.ip) & mask) >>> 0, prefix: cut });
  const cidr = formatCidr(wide);
  return [
    { name: 'deny-ingress', about: 'default deny ingress for every pod', policies: [pol('deny-ingress', {})] },
    {
      name: 'deny-egress',
      about: 'default deny egress for app=a',
      policies: [pol('deny-egress', { podSelector: app('a'), policyTypes: ['Egress'] })],
    },
    {
      name: 'allow-from-selector',
      about: 'app=b admits only app=a, on TCP 80',
      policies: [
        pol('b-from-a', {
          podSelector: app('b'),
          ingress: [{ peers: from('a'), ports: [{ protocol: 'tcp', port: 80 }] }],
        }),
      ],
    },
    {
      name: 'ipblock-except',
      about: `app=c admits ${cidr} except ${except}`,
      policies: [
        pol('c-from-block', { podSelector: app('c'), ingress: [{ peers: [{ ipBlock: { cidr, except: [except] } }] }] }),
      ],
    },
    ...combined(),
  ];
}

/** The cases of ports, ranges, expressions and overlaps, the same for every lab. */
function combined(): CatalogueCase[] {
  return [
    {
      name: 'egress-ports',
      about: 'app=a may send only TCP 80 and UDP 8080–8090',
      policies: [
        pol('a-out', {
          podSelector: app('a'),
          policyTypes: ['Egress'],
          egress: [
            {
              ports: [
                { protocol: 'tcp', port: 80 },
                { protocol: 'udp', port: 8080, endPort: 8090 },
              ],
            },
          ],
        }),
      ],
    },
    {
      name: 'overlapping',
      about: 'two policies on app=b (from app=a on 80; from app=c on 81 and UDP) and one on app=a egress: their union',
      policies: [
        pol('b-1', { podSelector: app('b'), ingress: [{ peers: from('a'), ports: [{ protocol: 'tcp', port: 80 }] }] }),
        pol('b-2', {
          podSelector: app('b'),
          ingress: [
            {
              peers: [{ namespaceSelector: {}, podSelector: app('c') }],
              ports: [{ protocol: 'tcp', port: 81 }, { protocol: 'udp' }],
            },
          ],
        }),
        pol('a-eg', {
          podSelector: app('a'),
          policyTypes: ['Egress'],
          egress: [{ peers: [{ podSelector: app('b') }] }, { ports: [{ protocol: 'tcp', port: 8080 }] }],
        }),
      ],
    },
    {
      name: 'port-range-expressions',
      about: 'pods with app NotIn (a) admit app In (a, b) on TCP 80–81',
      policies: [
        pol('range', {
          podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['a'] }] },
          ingress: [
            {
              peers: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] } }],
              ports: [{ protocol: 'tcp', port: 80, endPort: 81 }],
            },
          ],
        }),
      ],
    },
    {
      name: 'applied-then-deleted',
      about: 'deny both ways for every pod, then the policy deleted: open again',
      policies: [pol('lockdown', { policyTypes: ['Egress', 'Ingress'] })],
      then: 'delete',
    },
  ];
}

/** The cases' names, in order. */
export const CATALOGUE_CASES: readonly string[] = catalogue([{ name: 'p', ip: '10.0.0.1' }], '10.0.0.0/8').map(
  (c) => c.name,
);
