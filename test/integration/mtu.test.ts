/**
 * The mtu test. In a flannel-host-gw lab (no tunnel: the pods' packets cross the switch as they are, ICMP included):
 * as built, the path carries the pod MTU and one byte more is refused by the sender (loud). Then a black hole is
 * planted, in two steps, only in the lab's namespaces:
 *   1. a hop that carries less than the pod MTU: on the server pod's node, a /32 route to that pod with `mtu lock
 *      1400` (as a node whose pod-facing side is set lower than the sender's pods — calico#4606's wrong MTU on one
 *      side). That node forwards a 1401-byte DF packet nowhere and answers the sender with ICMP frag-needed (mtu =
 *      1400), which crosses the switch: the test must find 1400 and say loud, naming 1400 and the node's address;
 *   2. a firewall on the switch that drops ICMP frag-needed (an nft table of the bridge family in the switch's
 *      namespace: icmp type 3 code 4 dropped, counted) — the classic path-MTU black hole (RFC 2923). Nothing comes back
 *      now: the test must still find 1400 and say silent; the rule's counter proves it dropped the answers.
 * The search stays short: even the black hole's takes at most 14 probes. Nothing is left behind. The mtu test in a run
 * (`cnilab run --tests tcp,mtu --underlay-mtu 1500,9000`) is asserted in underlay-mtu.test.ts, on that file's run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectures } from '../../src/arch';
import type { FeatureReport } from '../../src/doctor/features';
import { ip, ipJson, runIn } from '../../src/lib/netns';
import { nodeNetns, podNetns, switchNetns } from '../../src/lab/names';
import type { LabState } from '../../src/lab/state';
import { measureOne } from '../../src/run/mtu/measure';
import { planMtu } from '../../src/run/mtu/plan';
import { aboveText } from '../../src/run/mtu/report';
import type { MtuFigures } from '../../src/run/mtu/schema';
import { withLab } from './helpers';

const ALL_OK = new Proxy({}, { get: (_t, f) => ({ feature: f, ok: true, detail: 'ok' }) }) as FeatureReport;
const PLANT_MTU = 1400;
const PLANT_TABLE = 'cnilab_mtu_plant';

/** Step 1: the server's node routes to the server pod through a hop of PLANT_MTU. */
async function plantLowHop(state: LabState, server: string): Promise<string> {
  const pod = state.pods.find((p) => p.name === server)!;
  const node = { name: nodeNetns(state.lab, pod.node) };
  const [r] = await ipJson<{ dev: string; gateway?: string }[]>(node, ['route', 'get', pod.ip]);
  const via = r!.gateway ? ['via', r!.gateway] : [];
  await ip(node, ['route', 'add', `${pod.ip}/32`, ...via, 'dev', r!.dev, 'mtu', 'lock', String(PLANT_MTU)]);
  return state.topology.nodes.find((n) => n.name === pod.node)!.underlayIp;
}

/** Step 2: the switch drops ICMP frag-needed (and counts what it dropped). */
async function plantIcmpDrop(state: LabState): Promise<void> {
  const rules =
    `table bridge ${PLANT_TABLE} {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n` +
    `    icmp type destination-unreachable icmp code frag-needed counter drop\n  }\n}\n`;
  await runIn({ name: switchNetns(state.lab) }, 'nft', ['-f', '-'], { input: rules });
}

async function droppedBySwitch(state: LabState): Promise<number> {
  const r = await runIn({ name: switchNetns(state.lab) }, 'nft', ['list', 'table', 'bridge', PLANT_TABLE]);
  return Number(/counter packets (\d+)/.exec(r.stdout)?.[1] ?? NaN);
}

test('mtu in a flannel-host-gw lab: loud as built, loud at a low hop, silent when the switch drops frag-needed', async (t) => {
  await withLab('t-mtu-plant', 'flannel-host-gw', async (state) => {
    const arch = architectures.get('flannel-host-gw');
    const { cells, skipped } = planMtu({ topology: state.topology, archs: [arch], features: ALL_OK });
    assert.deepEqual(skipped, []);
    const cell = { ...cells[0]!, lab: state.lab };
    const said = (what: string, f: MtuFigures): void =>
      t.diagnostic(
        `${what}: pod MTU ${f.podMtu}, largest packet ${f.largestPacket}, above: ${aboveText(f)}; ` +
          `${f.probes} probes, ${f.sec} s`,
      );
    const client = { name: podNetns(state.lab, cell.client) };
    const serverIp = state.pods.find((p) => p.name === cell.server)!.ip;

    const asBuilt = await measureOne({ cell, state });
    said('as built', asBuilt);
    assert.deepEqual(
      [asBuilt.podMtu, asBuilt.largestPacket, asBuilt.largestPayload, asBuilt.overhead, asBuilt.above.outcome],
      [1500, 1500, 1472, 0, 'emsgsize'],
    );
    assert.equal(asBuilt.above.mode, 'loud');

    const hop = await plantLowHop(state, cell.server);
    const low = await measureOne({ cell, state });
    said('a 1400-byte hop', low);
    assert.deepEqual([low.podMtu, low.largestPacket, low.overhead], [1500, PLANT_MTU, 100]);
    assert.deepEqual(low.above, {
      outcome: 'frag-needed',
      mode: 'loud',
      reportedMtu: PLANT_MTU,
      from: hop,
      line: null,
    });
    // The sender's route cache is left without the path MTU the probes taught it.
    assert.doesNotMatch((await ip(client, ['route', 'get', serverIp])).stdout, /mtu/);

    await plantIcmpDrop(state);
    const hole = await measureOne({ cell, state });
    said('and frag-needed dropped on the switch', hole);
    assert.equal(hole.largestPacket, PLANT_MTU);
    assert.deepEqual(hole.above, { outcome: 'silent', mode: 'silent', reportedMtu: null, from: null, line: null });
    assert.ok((await droppedBySwitch(state)) >= 2, 'the switch dropped the frag-needed answers (the first twice)');
    assert.ok(hole.probes <= 14, `the black hole's search sent ${hole.probes} probes`);
  });
});
