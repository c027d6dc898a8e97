/**
 * The lab contract every architecture keeps, run from the registry: a kind is tested the day it is
 * registered. For each architecture — skipped where the doctor's feature report lacks what it
 * `requires`, the reason printed — a lab is brought up for real: its pods get distinct addresses
 * on their own namespaces, the processes it records run, every path it supports (the PATHS it
 * does not declare unsupported, and not designed out) carries ping and TCP between the ends the
 * run would measure, a pod network that cannot cross nodes does not, and `down` leaves nothing
 * (withLab asserts it). arch-contract.test.ts runs it on this host; test/kernel/arch-labs.test.ts
 * in the kernel tier's VM, for the architectures whose data path that kernel takes differently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { architectures } from '../../src/arch';
import { POD_IF, type Architecture } from '../../src/arch/architecture';
import { PATHS, type PathName } from '../../src/arch/vocabulary';
import { missingReason, probeFeatures, type FeatureReport } from '../../src/doctor/features';
import { isAlive } from '../../src/lib/exec';
import { ipJson, runIn } from '../../src/lib/netns';
import { CNI_BIN_DIR } from '../../src/lib/paths';
import { conflistFile } from '../../src/lab/pods';
import type { LabState } from '../../src/lab/state';
import { labNamespaces } from '../../src/lab/teardown';
import { designedOut, endpointsFor, pathInLab } from '../../src/run/paths';
import { serviceMissing } from '../../src/run/plan';
import { startIperf3Server, tcpSample } from '../../src/traffic/iperf3/run';
import { withLab } from './helpers';
import { KERNEL_TIER } from './kernel';

/**
 * TCP a path must carry: 100 Mbit/s through the kernel; 10 through a user-space datapath (Open
 * vSwitch's netdev one crosses user space twice per hop on the routed path) and in the kernel
 * tier's VM (software emulation, 15–60× slower).
 */
const minBps = (datapath: string): number => (KERNEL_TIER || datapath !== 'kernel' ? 1e7 : 1e8);

export async function ping(lab: LabState, from: string, to: string): Promise<void> {
  const src = lab.pods.find((p) => p.name === from)!;
  const dst = lab.pods.find((p) => p.name === to)!;
  await runIn({ name: src.netns }, 'ping', ['-c', '1', '-W', '2', dst.ip]);
}

/** Bits per second of 1 s of TCP from namespace `client` to `serverIp` in namespace `server`. */
async function shortIperf(client: string, server: string, serverIp: string): Promise<number> {
  const srv = startIperf3Server({ name: server }, serverIp);
  try {
    return (await tcpSample({ client: { name: client }, serverIp, durationSec: 1, omitSec: 0 })).bitsPerSecond;
  } finally {
    await srv.stop();
  }
}

/** The contract's lab: two compute nodes with two pods each; three where the kind has a router (the routed path). */
export const contractTopology = (arch: Architecture): string =>
  `topology: {computeNodes: ${arch.control.router ? 3 : 2}}`;

/**
 * The paths `arch` claims to carry: every path but those it declares unsupported, those designed
 * out, and `service` without a proxy (run-service.test.ts and services.test.ts hold that one).
 */
export function supportedPaths(arch: Architecture): PathName[] {
  return PATHS.filter(
    (p) => !arch.unsupported?.[p] && !designedOut(arch, p) && !(p === 'service' && serviceMissing(arch)),
  );
}

async function checkPods(state: LabState, lab: string): Promise<void> {
  const want = state.topology.pods.map((p) => p.name);
  assert.deepEqual(
    state.pods.map((p) => p.name),
    want,
    'a pod for every pod of the topology',
  );
  assert.equal(new Set(state.pods.map((p) => p.ip)).size, want.length, 'distinct pod addresses');
  const namespaces = labNamespaces(lab);
  for (const p of state.pods) {
    assert.ok(namespaces.includes(p.netns), `${p.name}'s namespace is the lab's`);
    const addrs = await ipJson<{ addr_info: { local: string }[] }[]>({ name: p.netns }, ['addr', 'show', POD_IF]);
    assert.ok(
      addrs[0]?.addr_info.some((a) => a.local === p.ip),
      `${p.name} holds its address ${p.ip} on ${POD_IF}`,
    );
  }
  for (const n of state.topology.nodes.filter((x) => x.role === 'compute')) {
    const conflist = JSON.parse(readFileSync(conflistFile(lab, n.name), 'utf8'));
    const type = conflist.plugins[0].type as string;
    assert.ok(existsSync(join(CNI_BIN_DIR, type)), `${n.name}'s conflist starts with a plugin cnilab built (${type})`);
  }
}

/** Architecture `name`'s lab `lab`, brought up, checked against the contract, taken down. */
export async function checkContract(name: string, lab: string, features: FeatureReport): Promise<void> {
  const arch = architectures.get(name);
  const min = minBps(arch.control.datapath(features));
  await withLab(
    lab,
    name,
    async (state) => {
      assert.equal(state.status, 'up');
      for (const p of state.processes) assert.ok(isAlive(p.pid), `${p.role}@${p.node} (pid ${p.pid}) runs`);
      if (arch.control.attachesPods) await checkPods(state, lab);
      else assert.deepEqual([state.pods, state.processes], [[], []], 'no pods, no control plane');
      for (const path of supportedPaths(arch)) {
        const ends = endpointsFor(state.topology, arch, path);
        assert.ok(typeof ends !== 'string', `${path}: ${String(ends)}`);
        const p = pathInLab(state, arch, path, ends);
        await runIn({ name: p.client }, 'ping', ['-c', '1', '-W', '2', p.serverIp]);
        const bps = await shortIperf(p.client, p.server, p.serverIp);
        assert.ok(bps > min, `${path}: TCP ${(bps / 1e6).toFixed(0)} Mbit/s, above ${min / 1e6}`);
      }
      // A pod network that does not cross nodes must not: no path around the design.
      if (arch.control.attachesPods && arch.unsupported?.['inter-node']) {
        const [a, b] = ['node1', 'node2'].map((n) => state.pods.find((p) => p.node === n)!.name);
        await assert.rejects(ping(state, a!, b!), `${name} must not reach another node's pods`);
      }
    },
    contractTopology(arch),
  );
}

let features: Promise<FeatureReport> | undefined;

/**
 * One contract test per registered architecture that `only` keeps. Where the doctor's report lacks
 * a feature the architecture requires, it skips with that reason — unless `mustRun` (the kernel
 * tier), or the feature is eBPF and CNILAB_REQUIRE_EBPF=1 (.ci/run), where it fails instead: those
 * cannot pass by skipping.
 */
export function archContract(
  labPrefix: string,
  o: { only?: (a: Architecture) => boolean; mustRun?: boolean } = {},
): void {
  for (const name of architectures.names()) {
    const arch = architectures.get(name);
    if (o.only && !o.only(arch)) continue;
    const title = `${name}: up, pods addressed, ${supportedPaths(arch).join(', ')} carry traffic; down leaves nothing`;
    test(title, async (t) => {
      features ??= probeFeatures();
      const report = await features;
      const missing = missingReason(report, arch.requires);
      if (missing && o.mustRun) assert.fail(`the kernel tier's kernel must carry ${name}: ${missing}`);
      if (missing && !report['ebpf']?.ok && arch.requires.includes('ebpf') && process.env.CNILAB_REQUIRE_EBPF === '1')
        assert.fail(`CNILAB_REQUIRE_EBPF=1 and ${name} cannot load here: ${missing}`);
      if (missing) return t.skip(missing);
      await checkContract(name, `${labPrefix}-${name}`, report);
    });
  }
}
