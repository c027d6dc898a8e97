import type { Architecture } from '../architecture';

/** The baseline: node to node over the underlay, no pods, no CNI. */
export const hostArch: Architecture = {
  name: 'host',
  summary: 'node to node over the underlay switch; no pods (the baseline)',
  family: 'baseline',
  requires: ['veth', 'bridge'],
  unsupported: { 'intra-node': 'the baseline is measured between two nodes only' },
};
