import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/paths';
import { msStat } from '../run/after/ms-stat';
import { RESULTS_SCHEMA_VERSION } from '../run/results-schema';
import { readResults } from './outputs';

/** The v5 fixture as a v6 run with both tests after the rounds, where v6 kept them: at the top, BGP times as `bgp`. */
function v6(): Record<string, unknown> {
  const doc = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/results-v5.json'), 'utf8'));
  const stat = msStat([10, 20, 30]);
  const counters = {
    redirectPeer: 5,
    redirectNeigh: 0,
    redirect: 7,
    pass: 2,
    drop: 0,
    redirectedBytes: 1200,
    passedBytes: 140,
  };
  const ebpf = [{ node: 'node1', program: 'from_pod', ...counters }];
  return {
    ...doc,
    // An ebpf-native row and path as v6 held its programs' counters.
    rows: [...doc.rows, { ...doc.rows[0], arch: 'ebpf-native', family: 'l3', ebpf }],
    paths: [...doc.paths, { ...doc.paths[0], arch: 'ebpf-native', programs: ebpf }],
    schemaVersion: 6,
    settings: { ...doc.settings, tests: [...doc.settings.tests, 'attach', 'join'] },
    attach: {
      samples: 3,
      sizes: [10],
      archs: [
        {
          arch: 'bridge',
          family: 'native',
          lab: 'cnilab-bridge',
          node: 'node1',
          target: 'node1-p2',
          path: 'intra-node',
          sizes: [{ pods: 10, fillers: 4, add: stat, firstPacket: stat, del: stat }],
        },
      ],
    },
    join: {
      samples: 3,
      archs: [
        {
          arch: 'calico-bgp',
          family: 'l3',
          lab: 'cnilab-calico-bgp',
          peers: 3,
          join: stat,
          converged: stat,
          bgp: { sessionUp: msStat([1, 2, 3]), routeReceived: msStat([4, 5, 6]) },
          leave: stat,
        },
      ],
    },
  };
}

const resultsV6Title =
  'a results v6 file reads as v7: attach and join into afterRounds, ' +
  'BGP times into join details, eBPF counters into meters';
test(resultsV6Title, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-v6-'));
  try {
    const old = v6();
    writeFileSync(join(dir, 'results.json'), JSON.stringify(old));
    const r = readResults(dir);
    assert.equal(r.schemaVersion, RESULTS_SCHEMA_VERSION);
    assert.equal('attach' in r || 'join' in r, false);
    assert.deepEqual(r.afterRounds?.['attach'], old['attach']);
    const j = r.afterRounds?.['join'] as { archs: { details?: { key: string; ms: unknown }[]; bgp?: unknown }[] };
    assert.equal(j.archs[0]!.bgp, undefined);
    assert.deepEqual(
      j.archs[0]!.details?.map((d) => [d.key, d.ms]),
      [
        ['bgpSessionUp', msStat([1, 2, 3])],
        ['bgpRouteReceived', msStat([4, 5, 6])],
      ],
    );
    assert.deepEqual(r.settings.tests.slice(-2), ['attach', 'join']);
    // The programs' counters: the kind's meter, on rows and paths alike.
    const row = r.rows.at(-1)!;
    const path = r.paths.at(-1)!;
    assert.equal('ebpf' in row || 'programs' in path, false);
    assert.deepEqual(row.meters, path.meters);
    const g = row.meters![0]!;
    assert.equal(g.meter, 'eBPF programs');
    assert.deepEqual(g.readings, [
      {
        node: 'node1',
        name: 'from_pod',
        on: [{ ifname: 'lxc*' }],
        counts: { peer: 5, neigh: 0, redirect: 7, pass: 2, drop: 0, redirectedBytes: 1200, passedBytes: 140 },
      },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
