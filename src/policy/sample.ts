/**
 * Handcrafted PolicyInputs for the designs' unit tests: three pods on node1 (a, b, d) and one on
 * node2 (c); `a` isolated both ways by two ingress policies and one egress, `b` egress-only, `d`
 * not isolated at all.
 */
import type { PolicyEndpoint, PolicyInput, ResolvedPolicy } from './model';

export const PODS = [
  { name: 'a', ip: '10.244.1.2', node: 'node1', labels: { app: 'a' } },
  { name: 'b', ip: '10.244.1.3', node: 'node1', labels: { app: 'b' } },
  { name: 'c', ip: '10.244.2.2', node: 'node2', labels: { app: 'c' } },
  { name: 'd', ip: '10.244.1.4', node: 'node1', labels: { app: 'd' } },
];

/** Ingress only: from pod b to TCP 80. */
export const ALLOW_B: ResolvedPolicy = {
  key: 'default/allow-b',
  ingress: [{ peers: { pods: ['b'], blocks: [] }, ports: [{ protocol: 'tcp', from: 80, to: 80 }] }],
};
/** Both directions: ingress from anyone to a TCP range and a port; egress nothing. */
export const BOTH: ResolvedPolicy = {
  key: 'default/both',
  ingress: [
    {
      peers: 'any',
      ports: [
        { protocol: 'tcp', from: 8000, to: 8080 },
        { protocol: 'tcp', from: 9000, to: 9000 },
      ],
    },
  ],
  egress: [],
};
/** Egress only: UDP 53 to anyone; anything to 10.0.0.0/8 but 10.1.0.0/16; anything to c or 192.168.0.0/16. */
export const EGRESS: ResolvedPolicy = {
  key: 'default/egress',
  egress: [
    { peers: 'any', ports: [{ protocol: 'udp', from: 53, to: 53 }] },
    { peers: { pods: [], blocks: [{ cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] }] }, ports: 'any' },
    { peers: { pods: ['c'], blocks: [{ cidr: '192.168.0.0/16', except: [] }] }, ports: 'any' },
  ],
};

const ep = (pod: string, ingress: string[], egress: string[]): PolicyEndpoint => ({
  pod,
  ip: PODS.find((p) => p.name === pod)!.ip,
  ingress,
  egress,
});

export function sampleInput(over: Partial<PolicyInput> = {}): PolicyInput {
  return {
    node: 'node1',
    revision: 1,
    pods: PODS,
    policies: [ALLOW_B, BOTH, EGRESS],
    endpoints: [
      ep('a', ['default/allow-b', 'default/both'], ['default/both']),
      ep('b', [], ['default/egress']),
      ep('d', [], []),
    ],
    ...over,
  };
}
