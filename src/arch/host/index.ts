import { CnilabError } from '../../lib/errors';
import type { Architecture, ControlPlane } from '../architecture';
import { BASELINE_ARCH } from '../vocabulary';

/** The baseline's control plane: there is none — nodes talk over the underlay, no pods, no CNI. */
export const baselineControlPlane: ControlPlane & { readonly kind: 'baseline' } = {
  kind: 'baseline',
  attachesPods: false,
  // Nodes talk over the underlay, which carries IPv6 whenever a family is 6.
  ipFamilies: [4, 6],
  restartable: [],
  up: () => Promise.resolve([]),
  membership: 'the baseline has no control plane to join (its lab is nodes on a switch, no pods)',
  restart: (state, old) =>
    Promise.reject(
      new CnilabError(
        'INVALID_INPUT',
        `lab ${state.lab} (baseline) runs no process to restart; ${old.role} is not one`,
      ),
    ),
  datapath: () => 'kernel',
};

/** The baseline: node to node over the underlay, no pods, no CNI. */
export const hostArch: Architecture = {
  name: BASELINE_ARCH,
  summary: 'node to node over the underlay switch; no pods (the baseline)',
  family: 'baseline',
  requires: ['veth', 'bridge'],
  unsupported: { 'intra-node': 'the baseline is measured between two nodes only' },
  control: baselineControlPlane,
};
