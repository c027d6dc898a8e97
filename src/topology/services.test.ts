import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTopology, topologyFileSchema } from './schema';

const first = (f: unknown): string => {
  const r = topologyFileSchema.safeParse(f);
  return r.success ? 'ok' : `${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`;
};

test('topology.services: a range apart from the others, a list the API takes; labels per node', () => {
  const t = resolveTopology(
    topologyFileSchema.parse({
      topology: {
        nodes: { control: { role: 'control' }, node1: { role: 'compute', pods: 1, labels: { tier: 'web' } } },
        services: { list: [{ name: 'web', ports: [{ port: 80 }], selector: { tier: 'web' } }] },
      },
    }),
  );
  assert.equal(t.services?.cidr, '10.96.0.0/16');
  assert.deepEqual(t.pods, [{ name: 'node1-p1', node: 'node1', labels: { tier: 'web' } }]);
  assert.match(
    first({ topology: { services: { cidr: '10.244.0.0/20' } } }),
    /^topology\.services\.cidr: .*overlaps podCidr/,
  );
  assert.match(
    first({ topology: { services: { list: [{ name: 'a', ports: [{ port: 0 }], pods: [] }] } } }),
    /^topology\.services\.list\.0\.ports\.0\.port/,
  );
  const dup = { name: 'a', ports: [{ port: 1 }], pods: [], clusterIp: '10.96.0.9' };
  assert.match(first({ topology: { services: { list: [dup, { ...dup }] } } }), /^topology\.services\.list\.1\.name/);
  assert.match(
    first({
      topology: { nodes: { c: { role: 'control' }, n: { role: 'compute', labels: { 'cnilab.io/pod': 'x' } } } },
    }),
    /^topology\.nodes\.n\.labels/,
  );
});
