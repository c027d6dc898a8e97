/**
 * Benchmark: the controller SIGKILLed at scale (issue 31, "faults at scale"). For each architecture
 * with a store (default flannel-vxlan, calico-vxlan, kuryr-lb-vxlan): a lab of N compute nodes with
 * one pod each, up, and a ping at 10/s between pods on two nodes. Then P − 1 more pods per node
 * attach at once; once the first ADD has reached the store the controller is SIGKILLed and
 * restarted: the recovery time is from the kill to the last pod attached, every pod attached
 * exactly once (distinct addresses, the store holding exactly the pods' addresses). Then, where
 * nodes may join, a node joins with the controller SIGKILLed once its agent has started: the time
 * from the kill to the node joined. No ping may be lost while the controller is down (from a kill
 * to 1 s after it answers again, or for good); the ping's other losses, under the load of the mass
 * attach with the controller up, are printed beside them. The host suite's small version:
 * test/integration/control-faults.test.ts.
 *
 *   npm run bench:control-faults -- [--nodes 20] [--pods 50] [--arch flannel-vxlan,calico-vxlan] [--json]
 */
import { cpSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architectures } from '../src/arch';
import { loadConfList } from '../src/cni/runtime';
import { missingReason, probeFeatures } from '../src/doctor/features';
import { sleep } from '../src/lib/exec';
import { down, up } from '../src/lab/lab';
import { nodeDir, runDir } from '../src/lab/names';
import { joinNode, restartProcess } from '../src/lab/nodes';
import { attachPods, conflistFile, onAttachWait } from '../src/lab/pods';
import { controlRequest } from '../src/lab/processes';
import { readState, type LabState } from '../src/lab/state';
import { parseTopology } from '../src/topology/load';
import { benchArgs, count, str } from './args';
import { lostRanges, lostWithin, watchPing, type PingSeen } from '../src/traffic/ping-watch';

const opts = benchArgs('npm run bench:control-faults -- [--nodes N] [--pods N] [--arch a,b] [--json]', {
  nodes: count(20),
  pods: count(50),
  arch: str('flannel-vxlan,calico-vxlan,kuryr-lb-vxlan'),
});

const say = (s: string): void => void (opts.json || process.stderr.write(`${s}\n`));
const ipv4 = /^\d+\.\d+\.\d+\.\d+$/;

/** The addresses the lab's store holds for its pods (flannel: host-local's files on the nodes). */
async function held(state: LabState): Promise<string[]> {
  const lab = state.lab;
  if (state.arch.startsWith('calico-')) {
    const r = await controlRequest<{ allocations: { ip: string; handle: string }[] }>(
      lab,
      'GET',
      '/v3/ipam/allocations',
    );
    return r.body.allocations.filter((a) => a.handle.includes(`/${lab}-`)).map((a) => a.ip);
  }
  if (state.arch.startsWith('kuryr-')) {
    const r = await controlRequest<{ ports: { ipAddress: string }[] }>(
      lab,
      'GET',
      '/v2.0/ports?deviceOwner=compute:kuryr',
    );
    return r.body.ports.map((p) => p.ipAddress);
  }
  return state.topology.nodes.flatMap((n) => {
    const dir = join(nodeDir(lab, n.name), 'ipam');
    if (!existsSync(dir)) return [];
    return readdirSync(dir).flatMap((net) => readdirSync(join(dir, net)).filter((f) => ipv4.test(f)));
  });
}

/** When killWhen killed, in this architecture's run (performance.now()). */
const kills: number[] = [];

/** SIGKILL and restart of the controller once `ready` holds (asked every 10 ms); the kill's time. */
async function killWhen(lab: string, ready: () => Promise<boolean>): Promise<number> {
  while (!(await ready().catch(() => false))) await sleep(10);
  const t0 = performance.now();
  kills.push(t0);
  await restartProcess(lab, 'control', 'SIGKILL');
  // The controller back: answering its administrator again.
  while ((await controlRequest(lab, 'GET', '/credentials').catch(() => ({ status: 0 }))).status !== 200)
    await sleep(10);
  backs.push((performance.now() - t0) / 1000);
  return t0;
}

/** Kill → the controller answering again, s, for each kill of this architecture's run. */
const backs: number[] = [];

interface FaultResult {
  arch: string;
  nodes: number;
  pods: number;
  /** Kill → the last pod attached, s. */
  attachRecoverySec: number;
  /** Kill → the controller answering again, s, for each kill (while pods attach; while a node joins). */
  controllerBackSec: number[];
  /** ADDs that failed with 11 and were retried. */
  retriedAdds: number;
  exactlyOnce: boolean;
  /** Kill → the node joined, s; undefined where nodes are fixed. */
  joinRecoverySec?: number;
  pingAnswered: number;
  pingLost: number;
  /**
   * Of them, lost while the controller was down: sent from a kill until 1 s after it answered again,
   * or never answered after the last answer (the path died). What must be 0.
   */
  pingLostWhileDown: number;
  /** When the lost pings went out, in seconds since the ping started; and when the kills came. */
  pingLostAt: string[];
  killsAt: string[];
}

/** P − 1 pods per node attach; the controller is killed once the first reached the store. */
async function attachFault(state: LabState, perNode: number): Promise<[number, number, boolean]> {
  const lab = state.lab;
  const before = (await held(state)).length;
  const compute = state.topology.nodes.filter((n) => n.role === 'compute').map((n) => n.name);
  const retried = new Set<string>();
  onAttachWait((w) => retried.add(w.pod));
  const attaching = Promise.all(
    compute.map((node) =>
      attachPods(
        lab,
        Array.from({ length: perNode }, (_, i) => ({ name: `${node}-f${i + 1}`, node })),
        loadConfList(conflistFile(lab, node)),
      ),
    ),
  ).then((x) => x.flat());
  const [pods, t0] = await Promise.all([attaching, killWhen(lab, async () => (await held(state)).length > before)]);
  const sec = (performance.now() - t0) / 1000;
  onAttachWait(undefined);
  const all = [...state.pods, ...pods];
  const ips = all.map((p) => p.ip).sort();
  const store = (await held(state)).sort();
  const once = new Set(ips).size === all.length && JSON.stringify(store) === JSON.stringify(ips);
  return [sec, retried.size, once];
}

const LAB = 'cf-bench';
/** Ctrl-C: the lab goes down first. */
process.once('SIGINT', () => void down(LAB).finally(() => process.exit(130)));

async function faults(arch: string, nodes: number, pods: number): Promise<FaultResult> {
  const lab = LAB;
  const yaml = `topology: {computeNodes: ${nodes}, defaults: {pods: 1}, podCidr: 10.224.0.0/12, subnetLength: 20}`;
  say(`${arch}: ${nodes} nodes up`);
  const state = await up({ topology: parseTopology(yaml, 'bench', { name: lab }), arch });
  try {
    const [a, b] = [state.pods[0]!, state.pods.find((p) => p.node !== state.pods[0]!.node)!];
    const { startedAt: started, stop } = await watchPing(a.netns, b.ip);
    let r: Omit<
      FaultResult,
      'pingAnswered' | 'pingLost' | 'pingLostWhileDown' | 'pingLostAt' | 'killsAt' | 'controllerBackSec'
    >;
    let ping: PingSeen = { answered: 0, lost: [], unanswered: 0 };
    kills.length = 0;
    backs.length = 0;
    try {
      say(`${arch}: ${nodes * (pods - 1)} pods attaching; the controller is killed once the first reached the store`);
      const [attachRecoverySec, retriedAdds, exactlyOnce] = await attachFault(state, pods - 1);
      say(`${arch}: attached ${attachRecoverySec.toFixed(2)} s after the kill (${retriedAdds} ADDs retried)`);
      r = { arch, nodes, pods: nodes * pods, attachRecoverySec, retriedAdds, exactlyOnce };
      if (typeof architectures.get(arch).control.membership !== 'string') {
        const joining = joinNode(lab, 'j1', 1);
        const t0 = await killWhen(lab, async () => (readState(lab)?.processes ?? []).some((p) => p.node === 'j1'));
        await joining;
        r = { ...r, joinRecoverySec: (performance.now() - t0) / 1000 };
        say(`${arch}: j1 joined ${r.joinRecoverySec!.toFixed(2)} s after the kill`);
      }
    } finally {
      ping = await stop();
    }
    const killsAt = kills.map((k) => `${((k - started) / 1000).toFixed(1)} s`);
    const lost = ping.lost.length + ping.unanswered;
    const lostAt = lostRanges(ping.lost);
    const down = kills.map((k, i): [number, number] => [(k - started) / 1000, (k - started) / 1000 + backs[i]! + 1]);
    const lostWhileDown = lostWithin(ping.lost, down).length + ping.unanswered;
    if (lost > 0)
      say(
        `${arch}: pings lost at ${lostAt.join(', ') || '–'}, ${ping.unanswered} unanswered after the last answer; ` +
          `the controller killed at ${killsAt.join(', ')}`,
      );
    return {
      ...r,
      controllerBackSec: [...backs],
      pingAnswered: ping.answered,
      pingLost: lost,
      pingLostWhileDown: lostWhileDown,
      pingLostAt: lostAt,
      killsAt,
    };
  } catch (e) {
    const kept = mkdtempSync(join(tmpdir(), `cnilab-${arch}-logs-`));
    cpSync(join(runDir(lab), 'logs'), kept, { recursive: true });
    say(`${arch}: failed; the lab's logs are kept in ${kept}`);
    throw e;
  } finally {
    await down(lab);
  }
}

async function main(): Promise<void> {
  const features = await probeFeatures();
  const out: FaultResult[] = [];
  for (const arch of opts.arch.split(',')) {
    const missing = missingReason(features, architectures.get(arch).requires);
    if (missing) {
      say(`${arch}: skipped: ${missing}`);
      continue;
    }
    out.push(await faults(arch, opts.nodes, opts.pods));
  }
  if (opts.json) process.stdout.write(JSON.stringify({ results: out }, null, 2) + '\n');
  for (const r of out)
    say(
      `${r.arch} ${r.nodes}×${r.pods / r.nodes}: controller back in ${r.controllerBackSec.map((b) => b.toFixed(2)).join(', ')} s, ` +
        `attach recovery ${r.attachRecoverySec.toFixed(2)} s, ` +
        `join recovery ${r.joinRecoverySec?.toFixed(2) ?? '–'} s, exactly once ${r.exactlyOnce ? 'yes' : 'NO'}, ` +
        `pings lost ${r.pingLostWhileDown} while the controller was down, ${r.pingLost} in all, ` +
        `of ${r.pingAnswered + r.pingLost}`,
    );
  if (out.some((r) => !r.exactlyOnce || r.pingLostWhileDown > 0)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
