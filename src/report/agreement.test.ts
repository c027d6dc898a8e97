import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agreementZ,
  answered,
  coverage,
  decidedClaims,
  largestPointDiff,
  nativePaper,
  ratiosByRow,
  reversals,
  seOf,
  type AgreementClaims,
  type AgreementRow,
} from './agreement';

/** A row whose ratio to host is g, its moderated and plain 95% intervals ±1.96 se around g in log space. */
function row(
  arch: string,
  g: number,
  seMod: number | null,
  sePlain: number | null,
  more: Partial<AgreementRow> = {},
): AgreementRow {
  const ci = (se: number) => ({ low: g * Math.exp(-1.96 * se), high: g * Math.exp(1.96 * se) });
  const half = (se: number) => Math.sinh(1.96 * se) * 100;
  return {
    arch,
    path: 'inter-node',
    test: 'tcp',
    params: { streams: 1 },
    ratio: {
      geomean: g,
      ci95: sePlain === null ? { low: g, high: g } : ci(sePlain),
      halfWidthPct: sePlain === null ? null : half(sePlain),
      moderated: seMod === null ? null : { ci95: ci(seMod), halfWidthPct: half(seMod) },
    },
    ...more,
  };
}

const host: AgreementRow = { arch: 'host', path: 'inter-node', test: 'tcp', params: { streams: 1 }, ratio: null };

const agreementZTitle =
  'agreement: z from each interval read as ±1.96 se in log space; the moderated interval agrees where the ' +
  'narrower plain one does not';
test(agreementZTitle, () => {
  assert.ok(Math.abs(seOf({ low: Math.exp(-0.098), high: Math.exp(0.098) }) - 0.05) < 1e-12);
  const [a, b] = [row('macvlan', 0.9, 0.05, 0.02), row('macvlan', 1, 0.05, 0.02)];
  // (ln 0.9 − ln 1) / √(0.05² + 0.05²) = −1.490; with the plain intervals √(0.02² + 0.02²): −3.725.
  assert.equal(agreementZ(a, b, 'moderated')!.toFixed(3), '-1.490');
  assert.equal(agreementZ(a, b, 'plain')!.toFixed(3), '-3.725');
  assert.equal(agreementZ(a, row('macvlan', 1, null, 0.02), 'moderated'), undefined, 'no interval: not compared');
  assert.equal(agreementZ(a, row('macvlan', 1, 0.05, null), 'plain'), undefined);
  assert.equal(agreementZ(row('x', 1, 0, 0), row('x', 1, 0, 0), 'plain'), 0, 'two points that agree');
});

const coverageEveryTitle =
  'coverage: every pair of runs, every row but the baseline; ' +
  'shares, median |z|, half-widths, the rows that disagree';
test(coverageEveryTitle, () => {
  const runs = [
    { rows: [host, row('macvlan', 1.0, 0.05, 0.02), row('flannel-vxlan', 0.5, 0.05, 0.02)] },
    { rows: [host, row('macvlan', 0.9, 0.05, 0.02), row('flannel-vxlan', 0.5, 0.05, 0.02)] },
    { rows: [host, row('macvlan', 1.0, 0.05, 0.02)] },
  ];
  const mod = coverage(runs, 'moderated');
  // macvlan: pairs (0,1) z = 1.49, (0,2) z = 0, (1,2) z = −1.49; flannel-vxlan: (0,1) z = 0.
  assert.deepEqual(
    [mod.kind, mod.compared, mod.consistentPct, mod.medianAbsZ, mod.disagree],
    ['moderated', 4, 100, 0.75, []],
  );
  assert.equal(mod.medianHalfWidthPct, 9.82);
  const plain = coverage(runs, 'plain');
  assert.deepEqual([plain.compared, plain.consistentPct, plain.medianAbsZ], [4, 50, 1.86]);
  assert.deepEqual(plain.disagree, [
    { row: 'macvlan inter-node tcp', runs: [0, 1], z: 3.73 },
    { row: 'macvlan inter-node tcp', runs: [1, 2], z: -3.73 },
  ]);
  assert.equal(plain.medianHalfWidthPct, 3.92);
  assert.deepEqual(
    ratiosByRow(runs).map((r) => [r.row, r.ratios, r.halfWidthPct.moderated]),
    [
      ['macvlan inter-node tcp', [1, 0.9, 1], 9.82],
      ['flannel-vxlan inter-node tcp', [0.5, 0.5, null], 9.82],
    ],
  );
  assert.ok(Number.isNaN(coverage([runs[0]!], 'moderated').consistentPct), 'one run: nothing compared');
});

test("largest point difference: % of host of the rows picked, both runs'", () => {
  const a = [
    row('macvlan', 1, 0.05, 0.05, { baselinePct: 97 }),
    row('flannel-udp', 0.3, 0.05, 0.05, { baselinePct: 30 }),
  ];
  const b = [
    row('macvlan', 1, 0.05, 0.05, { baselinePct: 93.5 }),
    row('flannel-udp', 0.3, 0.05, 0.05, { baselinePct: 50 }),
  ];
  assert.deepEqual(
    largestPointDiff(a, b, (r) => r.arch !== 'flannel-udp'),
    { row: 'macvlan inter-node tcp', points: 3.5, a: 97, b: 93.5 },
  );
  assert.equal(
    largestPointDiff(a, [], () => true),
    undefined,
  );
});

const claims = (
  steps: [string, string, string][],
  paper: string,
  designs: [string, string][] = [],
): AgreementClaims => ({
  rankings: [
    {
      path: 'inter-node',
      test: 'tcp',
      params: { streams: 1 },
      steps: steps.map(([a, b, verdict]) => ({ a, b, verdict })),
    },
  ],
  paper: [
    { figure: 'Fig. 5', higher: 'macvlan', lower: 'flannel-vxlan', path: 'inter-node', test: 'tcp', verdict: paper },
    {
      figure: 'Fig. 4',
      higher: 'kuryr-ovs-vxlan',
      lower: 'flannel-udp',
      path: 'inter-node',
      test: 'tcp',
      verdict: 'not measured',
    },
  ],
  designs: [
    {
      design: 'eBPF against routes',
      a: 'ebpf-native',
      b: 'flannel-host-gw',
      path: 'inter-node',
      metrics: designs.map(([metric, verdict]) => ({ metric, verdict })),
    },
  ],
});

const reversalsTitle =
  'reversals: better against worse, or equivalent against either, whichever way round a claim names its pair';
test(reversalsTitle, () => {
  const a = claims(
    [
      ['macvlan', 'flannel-vxlan', 'better'],
      ['flannel-vxlan', 'flannel-udp', 'better'],
      ['flannel-udp', 'calico-vxlan', 'equivalent'],
    ],
    'holds',
    [
      ['throughput', 'equivalent'],
      ['latency', 'better'],
      ['cpuPerGbit', 'worse'],
    ],
  );
  const b = claims(
    [
      ['flannel-vxlan', 'macvlan', 'better'], // the other order, and the other way: reversed
      ['flannel-udp', 'flannel-vxlan', 'worse'], // the other order, the same way: not reversed
      ['calico-vxlan', 'flannel-udp', 'not resolved'], // not resolved never reverses
    ],
    'equivalent', // holds against equivalent: reversed
    [
      ['throughput', 'equivalent'],
      ['latency', 'not resolved'],
      ['cpuPerGbit', 'equivalent'], // worse against equivalent: reversed
    ],
  );
  assert.deepEqual(reversals(a, b), [
    'flannel-vxlan/macvlan inter-node tcp: worse / better',
    'paper Fig. 5: flannel-vxlan/macvlan inter-node tcp: worse / equivalent',
    'design eBPF against routes: ebpf-native/flannel-host-gw inter-node cpuPerGbit: worse / equivalent',
  ]);
  assert.deepEqual(reversals(a, a), []);
  assert.equal(decidedClaims(b).get('flannel-udp/flannel-vxlan inter-node tcp'), 'worse');
  assert.equal(
    decidedClaims(a).get('paper Fig. 5: flannel-vxlan/macvlan inter-node tcp'),
    'worse',
    'holds: macvlan better',
  );
});

const answeredResolvedTitle =
  'answered: resolved, or every ranking step decided (a row without steps is not answered by them); the ' +
  'baseline left out';
test(answeredResolvedTitle, () => {
  const rows: AgreementRow[] = [
    host,
    row('macvlan', 1, 0.01, 0.01, { resolved: true }),
    row('flannel-vxlan', 0.8, 0.1, 0.1, { resolved: false }),
    row('flannel-udp', 0.3, 0.1, 0.1, { resolved: false }),
    row('flannel-host-gw', 0.9, 0.1, 0.1, { resolved: false, path: 'intra-node' }),
  ];
  const c = claims(
    [
      ['macvlan', 'flannel-vxlan', 'better'],
      ['flannel-vxlan', 'flannel-udp', 'equivalent'],
      ['flannel-udp', 'calico-vxlan', 'not resolved'],
    ],
    'holds',
  );
  assert.deepEqual(answered(rows, c), {
    rows: 4,
    resolvedPct: 25,
    answeredPct: 50,
    unanswered: ['flannel-udp inter-node tcp', 'flannel-host-gw intra-node tcp'],
  });
});

const paperOrderingsTitle =
  'paper orderings the kernel runs natively: both measured, ' +
  'neither a user-space datapath; decided when none is open';
test(paperOrderingsTitle, () => {
  const archs = [
    { name: 'macvlan', datapath: 'kernel' },
    { name: 'flannel-vxlan' },
    { name: 'kuryr-ovs-vxlan', datapath: 'openvswitch netdev (userspace)' },
    { name: 'flannel-udp', datapath: 'user space: the flannel agent (TUN + UDP socket)' },
  ];
  const open = nativePaper(claims([], 'not resolved'), archs);
  assert.deepEqual(open, {
    orderings: [{ claim: 'Fig. 5 macvlan > flannel-vxlan inter-node tcp', verdict: 'not resolved' }],
    decided: false,
  });
  assert.equal(nativePaper(claims([], 'equivalent'), archs).decided, true);
  assert.equal(nativePaper(claims([], 'reversed'), archs).decided, true);
  assert.deepEqual(nativePaper(claims([], 'holds'), archs.slice(1)).orderings, [], 'macvlan not measured');
});
