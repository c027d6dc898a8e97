/**
 * Whether a proxy keeps a translated flow's 4-tuple apart from the backend's recent ones: in a
 * flannel-vxlan lab with `--proxy MODE` and one Service (two backends on node2), one client pod
 * makes COUNT connections (crr, one at a time) through the ClusterIP, then COUNT directly to each
 * backend, then COUNT through the ClusterIP again; for each step, how many answered, how many
 * failed, and how many connects took over 3 ms. Netfilter's NAT gives a flow whose translated
 * 4-tuple the backend still holds (in TIME_WAIT, from a connection of the other kind) another
 * source port; a plain DNAT does not (docs/proxy-ebpf.md). A measurement to run by hand, under
 * the integration lock; the lab (`tuple-MODE`) is removed after:
 *   npm run build && node dist/scripts/service-tuple-reuse.js [--proxy ebpf] [--count 2000]
 */
import { down, up } from '../src/lab/lab';
import type { LabState } from '../src/lab/state';
import { parseTopology } from '../src/topology/load';
import { runCrr, startCrrServer, type CrrServer } from '../src/traffic/crr/run';

const args = process.argv.slice(2);
const flag = (name: string, d: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : d;
};
const mode = flag('--proxy', 'ebpf');
const count = Number(flag('--count', '2000'));
const CLUSTER_IP = '10.96.0.20';
const lab = `tuple-${mode}`;

const topology = parseTopology(
  `topology:
  defaults: {pods: 2}
  proxy: ${mode}
  nodes:
    control: {role: control}
    node1: {role: compute}
    node2: {role: compute, labels: {app: web}}
  services:
    list:
      - {name: web, clusterIp: ${CLUSTER_IP}, ports: [{port: 80, targetPort: 8080}], selector: {app: web}}
`,
  'service-tuple-reuse',
  { name: lab },
);

async function main(): Promise<void> {
  const state: LabState = await up({ topology, arch: 'flannel-vxlan' });
  const servers: CrrServer[] = [];
  try {
    const pod = (name: string) => state.pods.find((p) => p.name === name)!;
    for (const b of ['node2-p1', 'node2-p2']) servers.push(await startCrrServer({ name: pod(b).netns }, 8080, b));
    const client = { name: pod('node1-p1').netns };
    const steps: [string, string, number][] = [
      ['through the ClusterIP', CLUSTER_IP, 80],
      ['directly to node2-p1', pod('node2-p1').ip, 8080],
      ['directly to node2-p2', pod('node2-p2').ip, 8080],
      ['through the ClusterIP again', CLUSTER_IP, 80],
    ];
    console.log(`${mode} proxy, flannel-vxlan, ${count} connections a step from node1-p1:`);
    for (const [what, host, port] of steps) {
      const r = await runCrr(client, { host, port, count, timeoutMs: 1000 });
      const failed = count - r.ok;
      const slow = r.connectMs.filter((ms) => ms > 3);
      const worst = Math.max(0, ...r.connectMs);
      console.log(
        `  ${what.padEnd(28)} answered ${r.ok}, failed ${failed}, connects over 3 ms ${slow.length} ` +
          `(slowest ${worst.toFixed(1)} ms)`,
      );
    }
  } finally {
    for (const s of servers) await s.stop();
    await down(lab);
  }
}

main().catch((e: unknown) => {
  console.error(`service-tuple-reuse: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
