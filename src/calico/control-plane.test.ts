import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../arch';
import { parseTopology } from '../topology/load';

const refuse = (arch: string, yaml: string): string | undefined =>
  architectures.get(arch).control.refuse?.(parseTopology(yaml, 't'));

test("calico refuses a pool with fewer blocks than nodes, or one holding the pods' gateway; takes the default", () => {
  assert.equal(refuse('calico-bgp', ''), undefined);
  assert.equal(refuse('calico-vxlan', ''), undefined);
  assert.equal(
    refuse('calico-bgp', 'topology: {podCidr: 10.244.0.0/25, subnetLength: 27}'),
    'topology.podCidr (the IPAM pool): 10.244.0.0/25 holds 2 /26 block(s), fewer than one per node (3 compute ' +
      'nodes); use a larger pool',
  );
  assert.equal(
    refuse('calico-vxlan', 'topology: {podCidr: 169.254.0.0/16}'),
    "topology.podCidr (the IPAM pool): 169.254.0.0/16 holds the pods' gateway 169.254.1.1; pick a range apart from it",
  );
});
