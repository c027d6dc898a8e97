import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCnilabError } from '../lib/errors';
import { parseTopology } from '../topology/load';
import { BASE_BYTES, labNeeds, machineRoom, NODE_BYTES, POD_BYTES, refuseTooLarge, type MachineRoom } from './capacity';

const GIB = 2 ** 30;
const room = (o: Partial<MachineRoom> = {}): MachineRoom => ({
  memoryBytes: 8 * GIB,
  memorySource: 'MemAvailable',
  namespaces: 10_000,
  namespacesSource: 'user.max_net_namespaces 10000 less 0 named namespaces',
  mounts: 100_000,
  ...o,
});
const topo = (yaml: string) => parseTopology(yaml, 't.yaml');

test('a lab needs memory per pod, per compute node and a base, and a namespace per pod, node and the switch', () => {
  const need = labNeeds(topo('topology: {computeNodes: 20, defaults: {pods: 50}}'));
  assert.equal(need.namespaces, 1000 + 21 + 1);
  assert.equal(need.memoryBytes, BASE_BYTES + 20 * NODE_BYTES + 1000 * POD_BYTES);
  assert.ok(need.memoryBytes < 2 * GIB, '1,000 pods fit in well under 2 GiB');
});

test('a lab that fits is not refused; 40 × 50 fits on this machine', () => {
  refuseTooLarge(topo('topology: {computeNodes: 20, defaults: {pods: 50}}'), room());
  const r = machineRoom();
  assert.ok(r.memoryBytes > 0 && r.namespaces > 0 && r.mounts > 0);
});

test('too little memory: refused with what it needs and what there is, naming defaults.pods, and what fits', () => {
  const t = topo('topology: {computeNodes: 20, defaults: {pods: 200}, podCidr: 10.0.0.0/12, subnetLength: 22}');
  assert.throws(
    () => refuseTooLarge(t, room({ memoryBytes: 3 * GIB })),
    (e: unknown) => {
      assert.ok(isCnilabError(e, 'LAB_TOO_LARGE'));
      assert.equal(e.message.includes('\n'), false, 'one line');
      assert.match(
        e.message,
        new RegExp(
          String.raw`^topology\.defaults\.pods: 4000 pods on 20 compute nodes need ~3\.5 GiB of ` +
            String.raw`memory \(there is 3\.0 GiB: MemAvailable\); at most 153 pods per node fit here`,
        ),
      );
      return true;
    },
  );
});

test('too few namespaces: refused naming the limit; an uneven topology names its largest node', () => {
  const t = topo(
    'topology: {nodes: {control: {role: control}, a: {role: compute, pods: 10}, b: {role: compute, pods: 200}}}',
  );
  assert.throws(
    () => refuseTooLarge(t, room({ namespaces: 100, namespacesSource: 'user.max_net_namespaces 150 less 50 named' })),
    new RegExp(
      String.raw`CnilabError: topology\.nodes\.b\.pods: 210 pods on 2 compute nodes need 214 ` +
        String.raw`network namespaces \(room for 100: user\.max_net_namespaces 150 less 50 named\); ` +
        String.raw`at most 48 pods per node fit here`,
    ),
  );
  assert.throws(
    () => refuseTooLarge(t, room({ mounts: 50 })),
    /need 214 mounts under \/run\/netns \(room for 50: fs\.mount-max\)/,
  );
});
