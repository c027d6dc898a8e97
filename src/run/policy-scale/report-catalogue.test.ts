import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogueHeadline, catalogueHtml, catalogueLines } from './report-catalogue';
import type { PolicyScaleJson } from './schema';

const matrix = (marks: string, differences: number) => ({
  pods: ['p1', 'p2'],
  probes: ['tcp/80'],
  marks,
  differences,
});

const j = (marks: string, differences: number): PolicyScaleJson => ({
  rules: [0],
  connections: 10,
  changes: 1,
  throughputSec: 1,
  archs: [
    {
      arch: 'calico-bgp',
      family: 'l3',
      lab: 'l',
      client: 'p1',
      server: 'p2',
      client2: 'p3',
      designs: [
        {
          design: 'iptables',
          catalogue: {
            differences,
            cases: [{ name: 'deny-ingress', about: 'deny', differences, matrix: matrix(marks, differences) }],
          },
          rules: [],
        },
      ],
    },
  ],
});

test("the catalogue's report: a case that differs shown open, its cell marked; the terminal and headline name it", () => {
  const bad = j('XA', 1);
  const html = catalogueHtml(bad);
  assert.match(html, /<details open><summary>deny-ingress: deny — <b>1<\/b> difference\(s\)/);
  assert.match(html, /title="allowed where the policies deny">A</);
  assert.deepEqual(catalogueLines(bad), [
    '  correctness calico-bgp · iptables: 1 cases, 1 difference(s) from the oracle (deny-ingress)',
  ]);
  assert.equal(catalogueHeadline(bad), 'differences from the oracle: calico-bgp · iptables 1');
  const good = j('XX', 0);
  assert.match(catalogueHtml(good), /<details><summary>/);
  assert.match(catalogueHeadline(good)!, /every design's probe matrices match the oracle \(1 designs, 1 cases each\)/);
  assert.equal(catalogueHtml({ ...good, archs: [] }), '');
});
