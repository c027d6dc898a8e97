import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeLink, formatDelay, formatRate } from './link';
import { parseTopology } from './load';
import { nodeLink } from './schema';

const topo = (underlay: string, nodes = ''): string =>
  `topology:\n  underlay: {${underlay}}\n${nodes ? `  nodes:\n${nodes}` : ''}`;

test('link units: rates in bit/kbit/mbit/gbit, delays in us/ms/s, loss in %', () => {
  const t = parseTopology(topo('rate: 1gbit, delay: 2ms, loss: 0.1%'), 't.yaml');
  assert.deepEqual(t.underlay.link, { rateBitsPerSec: 1e9, delayUs: 2000, lossPct: 0.1 });
  const u = parseTopology(topo('rate: 1500kbit, delay: 250us, loss: 100%'), 't.yaml');
  assert.deepEqual(u.underlay.link, { rateBitsPerSec: 1.5e6, delayUs: 250, lossPct: 100 });
  assert.deepEqual(parseTopology(topo('delay: 1.5s'), 't.yaml').underlay.link, { delayUs: 1.5e6 });
  assert.deepEqual(parseTopology(topo('rate: 64000bit'), 't.yaml').underlay.link, { rateBitsPerSec: 64000 });
  assert.equal(parseTopology(topo('mtu: 1500'), 't.yaml').underlay.link, undefined, 'no link fields: no emulation');
});

test('link units: anything else is a one-line error naming the field', () => {
  const bad: [string, RegExp][] = [
    ['rate: 1000', /: t\.yaml: topology\.underlay\.rate: must be a rate with its unit, like 100mbit/],
    ['rate: 1Gbps', /: t\.yaml: topology\.underlay\.rate: "1Gbps" is not a rate: write it like 100mbit or 1gbit/],
    ['rate: 10bit', /: t\.yaml: topology\.underlay\.rate: 10bit must be from 1kbit to 100gbit$/],
    ['rate: 200gbit', /topology\.underlay\.rate: 200gbit must be from 1kbit to 100gbit$/],
    ['delay: 2', /: t\.yaml: topology\.underlay\.delay: must be a time with its unit, like 2ms/],
    ['delay: 2 ms', /topology\.underlay\.delay: "2 ms" is not a delay/],
    ['delay: -1ms', /topology\.underlay\.delay: "-1ms" is not a delay/],
    ['delay: 0.5us', /topology\.underlay\.delay: 0\.5us must be whole microseconds from 0 to 10s$/],
    ['delay: 11s', /topology\.underlay\.delay: 11s must be whole microseconds from 0 to 10s$/],
    ['loss: 0.1', /: t\.yaml: topology\.underlay\.loss: must be a percentage with its % sign, like 0\.1%/],
    ['loss: 101%', /topology\.underlay\.loss: 101% must be from 0% to 100%$/],
    ['jitter: 1ms', /topology\.underlay: unknown field "jitter"/],
  ];
  for (const [field, re] of bad) assert.throws(() => parseTopology(topo(field), 't.yaml'), re, field);
  assert.throws(
    () =>
      parseTopology(topo('', '    control: {role: control}\n    n1: {role: compute, link: {delay: 5}}\n'), 't.yaml'),
    /: t\.yaml: topology\.nodes\.n1\.link\.delay: must be a time with its unit/,
  );
  assert.throws(
    () =>
      parseTopology(topo('', '    control: {role: control}\n    n1: {role: compute, link: {mtu: 9000}}\n'), 't.yaml'),
    /topology\.nodes\.n1\.link: unknown field "mtu"/,
  );
});

test("a node's link overrides the lab-wide one field by field; 0 switches a field off", () => {
  const t = parseTopology(
    topo(
      'rate: 1gbit, delay: 2ms',
      '    control: {role: control}\n    n1: {role: compute}\n    n2: {role: compute, link: {delay: 5ms, loss: ' +
        '1%}}\n    n3: {role: compute, link: {delay: 0ms}}\n',
    ),
    't.yaml',
  );
  const link = (name: string) =>
    nodeLink(
      t,
      t.nodes.find((n) => n.name === name)!,
    );
  assert.deepEqual(link('n1'), { rateBitsPerSec: 1e9, delayUs: 2000 });
  assert.deepEqual(link('n2'), { rateBitsPerSec: 1e9, delayUs: 5000, lossPct: 1 });
  assert.deepEqual(link('n3'), { rateBitsPerSec: 1e9 });
  const none = parseTopology(
    topo('', '    control: {role: control}\n    n1: {role: compute, link: {delay: 0s}}\n'),
    't',
  );
  assert.equal(nodeLink(none, none.nodes[1]!), undefined);
});

test('links are written back as tc writes them', () => {
  assert.equal(formatRate(1e9), '1gbit');
  assert.equal(formatRate(1.5e6), '1500kbit');
  assert.equal(formatRate(1234), '1234bit');
  assert.equal(formatDelay(2000), '2ms');
  assert.equal(formatDelay(1.5e6), '1500ms');
  assert.equal(formatDelay(250), '250us');
  assert.equal(describeLink({ rateBitsPerSec: 1e8, delayUs: 2000, lossPct: 0.1 }), '100mbit, 2ms one way, 0.1% loss');
});
