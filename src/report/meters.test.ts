import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/paths';
import { resultsSchema, type RunResults } from '../run/results-schema';
import { pathDiagram } from './diagram';
import { headlines, renderHtml } from './html';
import { readResults } from './outputs';

const recorded = (): RunResults => readResults(join(REPO_ROOT, 'test/fixtures/results-v5.json'));

/**
 * An ebpf-native inter-node path as a run records it: its kind's meter, from_pod on node1's lxc veths, from_netdev on
 * node2's eth0.
 */
function ebpfPath(): {
  path: RunResults['paths'][number];
  meters: NonNullable<RunResults['paths'][number]['meters']>;
} {
  // Data packets of 46 kB (super-packets) one way, ACKs of 66 B the other.
  const hop = (stop: string, ifname: string, rx: number, tx: number, rxBytes = rx * 46000, txBytes = tx * 46000) => ({
    stop,
    ifname,
    kind: 'veth',
    mtu: 1500,
    rxPackets: rx,
    txPackets: tx,
    rxBytes,
    txBytes,
  });
  const prog = (node: string, name: string, ifname: string, redirect: number, peer: number, pass: number) => ({
    node,
    name,
    on: [{ ifname }],
    counts: {
      peer,
      neigh: 0,
      redirect,
      pass,
      drop: 0,
      redirectedBytes: (redirect + peer) * 46000,
      passedBytes: pass * 70,
    },
  });
  const meters = [
    {
      meter: 'eBPF programs',
      tag: 'bpf',
      about: 'Packets each program handled.',
      readings: [prog('node1', 'from_pod', 'lxc*', 75192, 0, 2), prog('node2', 'from_netdev', 'eth0', 0, 75193, 4)],
    },
  ];
  const path = {
    arch: 'ebpf-native',
    path: 'inter-node' as const,
    client: 'node1-p1',
    server: 'node2-p1',
    mtu: 1500,
    encapBytes: 0,
    measuredWith: 'tcp' as const,
    hops: [
      hop('pod node1-p1', 'eth0', 0, 75194),
      hop('node node1', 'lxcf8104816', 75194, 0),
      hop('node node1', 'eth0', 0, 75196),
      hop('node node2', 'eth0', 75197, 0),
      // the data went into the pod past the host end (bpf_redirect_peer): only the ACKs crossed it
      hop('node node2', 'lxc15655b2b', 71168, 0, 71168 * 66, 0),
      hop('pod node2-p1', 'eth0', 75193, 0),
    ],
    meters,
  };
  return { path, meters };
}

test("a kind's meters: each reading on the interface it sits on; a table per meter; the designs compared", () => {
  const r = structuredClone(recorded());
  const { path, meters } = ebpfPath();
  const svg = pathDiagram(path, 'e');
  assert.deepEqual(
    [...svg.matchAll(/data-ifname="([^"]+)" data-packets="\d+" data-meter="([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`),
    ['lxcf8104816 from_pod', 'eth0 from_netdev'],
    'from_pod where the data enters node1 (its lxc veth), ' +
      'from_netdev where it enters node2 (eth0); none where it leaves',
  );
  assert.match(svg, /bpf \(node\): 75\.2k redirect, 2 pass</);
  assert.match(svg, /bpf \(node\): 75\.2k peer, 4 pass</);
  assert.deepEqual(
    [...svg.matchAll(/class="hop return-only" data-ifname="([^"]+)"/g)].map((m) => m[1]),
    ['lxc15655b2b'],
    'the host end the data went past is drawn as the return direction only',
  );
  assert.match(svg, /return only: in 71\.2k packets, 66B each/);
  assert.equal((svg.match(/marker-end="url\(#e-arrow\)"/g) ?? []).length, path.hops.length - 2, 'no arrow into it');

  const row = structuredClone(
    r.rows.find((x) => x.arch === 'flannel-vxlan' && x.path === 'inter-node' && x.test === 'tcp')!,
  );
  r.rows.push({ ...row, arch: 'ebpf-native', family: 'l3', meters });
  r.paths.push(path);
  r.claims.designs = [
    {
      design: 'eBPF host routing against a bridge and routes',
      a: 'ebpf-native',
      b: 'flannel-host-gw',
      path: 'inter-node',
      metrics: [
        {
          metric: 'throughput',
          test: 'tcp',
          verdict: 'better',
          ratio: { n: 6, geomean: 1.08, ci95: { low: 1.02, high: 1.14 } },
        },
        {
          metric: 'latency',
          test: 'latency',
          verdict: 'not resolved',
          ratio: { n: 6, geomean: 0.97, ci95: { low: 0.9, high: 1.05 } },
        },
        { metric: 'cpuPerGbit', test: 'tcp', verdict: 'not measured' },
      ],
    },
  ];
  const html = renderHtml(resultsSchema.parse(r), []);
  assert.match(
    html,
    new RegExp(
      String.raw`<li>eBPF host routing against a bridge and routes — ` +
        String.raw`ebpf-native\/flannel-host-gw, inter-node: throughput 108% \(102%–114%\) ` +
        String.raw`better; latency p50 97% \(90%–105%\) not resolved; CPU per Gbit not ` +
        String.raw`measured<\/li>`,
    ),
  );
  assert.match(
    html,
    new RegExp(
      String.raw`<h3>eBPF programs<\/h3>.*` +
        String.raw`<th>peer<\/th><th>neigh<\/th><th>redirect<\/th><th>pass<\/th><th>drop<\/th>` +
        String.raw`<th>MB redirected<\/th><th>MB passed<\/th>.*` +
        String.raw`<td>from_pod@node1<\/td><td class="n">0<\/td><td class="n">0<\/td><td class="n">75,192<\/td>` +
        String.raw`<td class="n">2<\/td><td class="n">0<\/td><td class="n">3458.8<\/td>`,
      's',
    ),
  );
  assert.match(html, /<span style="background:#7570b3"><\/span>l3 \(/, 'the l3 family in the legend');
  assert.ok(
    headlines(resultsSchema.parse(r)).some((h) => h.startsWith('eBPF host routing against a bridge and routes — ')),
    'a headline for the eBPF data path against the design it replaces',
  );
});
