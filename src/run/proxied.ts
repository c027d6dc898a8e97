/**
 * The Service proxy as a dimension of a run (`--proxy`): each architecture with pods becomes one
 * variant per proxy mode — the same control plane, its lab built with that proxy on every compute
 * node and a Service of its own, `cnilab-run`, whose one endpoint is the server pod of the
 * inter-node path. The `service` path dials that Service's ClusterIP; the inter-node path of the
 * same lab dials the pod itself: the pair that prices the Service hop.
 *
 * A variant is named `base+mode` (flannel-vxlan+nftables): rows, claims and the report take it as
 * one more architecture, so proxies are compared side by side wherever architectures are. `none`
 * keeps the architecture as registered (no proxy). The baseline has no pods, so no variants.
 */
import type { Architecture } from '../arch/architecture';
import type { ServiceSpec } from '../apiserver/model';
import { CnilabError } from '../lib/errors';
import { formatIPv4, parseCidr } from '../lib/ip';
import { proxyModes } from '../proxy';
import type { Topology } from '../topology/schema';
import { IPERF3_PORT } from '../traffic/iperf3/run';
import { SOCKPERF_PORT } from '../traffic/sockperf/run';
import { IPERF2_PORT } from '../traffic/iperf2/run';
import { CRR_PORT } from './tests/crr';

/** What `--proxy` takes besides the modes: the architecture as registered, without a proxy. */
export const NO_PROXY = 'none';

/** The proxy modes named by `--proxy` (or the scenario's `proxy`), checked: each known, each once. */
export function proxyList(names: readonly string[], field = '--proxy'): string[] {
  if (names.length === 0)
    throw new CnilabError('INVALID_INPUT', `${field}: give a proxy mode or more, e.g. nftables,ebpf`);
  for (const n of names)
    if (n !== NO_PROXY && !proxyModes.has(n))
      throw new CnilabError(
        'INVALID_INPUT',
        `${field}: unknown proxy ${JSON.stringify(n)}; known: ${[...proxyModes.names(), NO_PROXY].join(', ')}`,
      );
  return [...new Set(names)];
}

/** `arch` with `mode` on every compute node: a variant named base+mode. */
export function withProxy(arch: Architecture, mode: string): Architecture {
  const proxy = proxyModes.get(mode);
  return {
    ...arch,
    name: `${arch.name}+${mode}`,
    summary: `${arch.summary}; Services through the ${mode} proxy`,
    requires: [...new Set([...arch.requires, ...proxy.requires])],
    inDefaultMatrix: false,
    proxied: { base: arch.name, proxy: mode },
  };
}

/** The run's architectures with the proxy dimension: each with pods once per mode (`none`: as it is). */
export function proxiedArchs(archs: readonly Architecture[], modes: readonly string[] | undefined): Architecture[] {
  if (modes === undefined) return [...archs];
  return archs.flatMap((a) =>
    a.control.attachesPods ? modes.map((m) => (m === NO_PROXY ? a : withProxy(a, m))) : [a],
  );
}

/** The registered architecture a lab of `arch` is built as (a variant's, of --proxy or --big-tcp, is its base). */
export const baseName = (arch: Architecture): string => arch.bigTcpVariant?.base ?? arch.proxied?.base ?? arch.name;

/** The name of the Service each proxied lab of a run holds. */
export const RUN_SERVICE = 'cnilab-run';

/** The Service path's servers listen this far above the tools' ports, apart from the inter-node path's on the same pod. */
export const SERVICE_PORT_SHIFT = 10;

/** The ClusterIP of the run's Service: the tenth address of the lab's Service range. */
export function runServiceIp(t: Topology): string {
  const cidr = t.services?.cidr;
  if (cidr === undefined)
    throw new CnilabError(
      'INVALID_INPUT',
      'services.cidr: this topology has no Service range (the default 10.96.0.0/16 overlaps its others); set one',
    );
  return formatIPv4(parseCidr(cidr).base + 10);
}

/**
 * The run's Service: the tools' ports (iperf3 TCP and UDP, sockperf UDP, iperf2 TCP, crr TCP) to the server
 * pod's, shifted (a Service's port and its targetPort differ, as they mostly do in clusters).
 */
export function runService(t: Topology, serverPod: string): ServiceSpec {
  const port = (name: string, p: number, protocol: 'tcp' | 'udp') => ({
    name,
    port: p,
    targetPort: p + SERVICE_PORT_SHIFT,
    protocol,
  });
  return {
    name: RUN_SERVICE,
    clusterIp: runServiceIp(t),
    pods: [serverPod],
    ports: [
      port('iperf3', IPERF3_PORT, 'tcp'),
      port('iperf3-udp', IPERF3_PORT, 'udp'),
      port('sockperf', SOCKPERF_PORT, 'udp'),
      port('iperf2', IPERF2_PORT, 'tcp'),
      port('crr', CRR_PORT, 'tcp'),
    ],
  };
}
