/**
 * One architecture's lab, built for real: pods attached through CNI carry traffic on every path it
 * supports, and `down` leaves nothing. lab.test.ts runs it for the architectures every kernel has;
 * test/kernel/ the ones needing modules this host may lack.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { architectures } from '../../src/arch';
import { runIn } from '../../src/lib/netns';
import { runDir } from '../../src/lab/names';
import type { LabState } from '../../src/lab/state';
import { labNamespaces } from '../../src/lab/teardown';
import { startIperf3Server, tcpSample } from '../../src/traffic/iperf3/run';
import { withLab } from './helpers';
import { KERNEL_TIER } from './kernel';

/** The CNI plugin each architecture's configuration list starts with. */
const PLUGIN: Record<string, string> = {
  bridge: 'bridge',
  macvlan: 'macvlan',
  ipvlan: 'ipvlan',
  'ipvlan-l3': 'ipvlan',
};
/** TCP a pod path must carry: 100 Mbit/s on a host, 10 in the kernel tier's VM (software emulation, 15–60× slower). */
const MIN_BPS = KERNEL_TIER ? 1e7 : 1e8;

export async function ping(lab: LabState, from: string, to: string): Promise<void> {
  const src = lab.pods.find((p) => p.name === from)!;
  const dst = lab.pods.find((p) => p.name === to)!;
  await runIn({ name: src.netns }, 'ping', ['-c', '1', '-W', '2', dst.ip]);
}

export async function shortIperf(lab: LabState, from: string, to: string): Promise<number> {
  const src = lab.pods.find((p) => p.name === from)!;
  const dst = lab.pods.find((p) => p.name === to)!;
  const server = startIperf3Server({ name: dst.netns }, dst.ip);
  try {
    const s = await tcpSample({ client: { name: src.netns }, serverIp: dst.ip, durationSec: 1, omitSec: 0 });
    return s.bitsPerSecond;
  } finally {
    await server.stop();
  }
}

/** Lab `lab` of architecture `name` (2 compute nodes, 2 pods each): pods, processes, traffic on every supported path. */
export async function checkArchLab(name: string, lab: string): Promise<void> {
  const arch = architectures.get(name);
  await withLab(lab, name, async (state) => {
    assert.equal(state.status, 'up');
    assert.deepEqual(
      state.pods.map((p) => p.name),
      ['node1-p1', 'node1-p2', 'node2-p1', 'node2-p2'],
    );
    assert.equal(new Set(state.pods.map((p) => p.ip)).size, 4, 'distinct pod addresses');
    assert.deepEqual(
      state.processes.map((p) => `${p.role}@${p.node}`),
      ['controller@control', 'agent@node1', 'agent@node2'],
    );
    const conflist = JSON.parse(readFileSync(join(runDir(lab), 'nodes', 'node1', 'cnilab.conflist'), 'utf8'));
    assert.equal(conflist.plugins[0].type, PLUGIN[name] ?? 'flannel');

    await ping(state, 'node1-p1', 'node1-p2');
    assert.ok(
      (await shortIperf(state, 'node1-p1', 'node1-p2')) > MIN_BPS,
      `intra-node TCP above ${MIN_BPS / 1e6} Mbit/s`,
    );
    if (!arch.unsupported?.['inter-node']) {
      await ping(state, 'node1-p1', 'node2-p1');
      await ping(state, 'node2-p2', 'node1-p2');
      assert.ok(
        (await shortIperf(state, 'node1-p1', 'node2-p1')) > MIN_BPS,
        `inter-node TCP above ${MIN_BPS / 1e6} Mbit/s`,
      );
    } else {
      await assert.rejects(ping(state, 'node1-p1', 'node2-p1'), "bridge alone must not reach another node's pods");
    }
    assert.equal(labNamespaces(lab).length, 1 + 3 + 4, 'switch + 3 nodes + 4 pods');
  });
}
