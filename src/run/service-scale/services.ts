/**
 * The Services the service-scale test creates (pure): N − 1 fillers, each with one endpoint so that
 * every mode programs real rules for it, and the probed Service, named to sort after every other
 * Service of the lab. Where rule order matters — iptables' KUBE-SERVICES holds one rule per Service
 * port, in the order of the Service ports' names (proxy/model.ts), walked top to bottom by the
 * first packet of each connection — the probed Service's rule is therefore the last one, as in the
 * kubernetes.io blog's method; nftables' verdict map, IPVS's virtual-server table and the eBPF
 * service map are looked up by key, where order is nothing.
 */
import type { ServiceSpec } from '../../apiserver/model';
import { CnilabError } from '../../lib/errors';

/** The probed Service: a name after every filler's and (checked) after the lab's own Services. */
export const PROBE_SERVICE = 'zz-scale-probe';
/** Fillers: scale-f00001, scale-f00002, … (below the probe's name). */
export const FILLER_PREFIX = 'scale-f';
/** The probed Service's backends select it by this label (the change moves it from one pod to the other). */
export const PROBE_LABEL = 'cnilab-scale';
export const PROBE_LABEL_VALUE = 'probe';
/** The port the probed Service's backends' crr servers listen on. */
export const BACKEND_PORT = 18080;
/** The probed Service's port. */
export const PROBE_PORT = 80;

export const fillerName = (i: number): string => `${FILLER_PREFIX}${String(i).padStart(5, '0')}`;

/** Fillers `from` to `to` (1-based, inclusive), each with `endpoint` as its one backend. */
export function fillerSpecs(from: number, to: number, endpoint: string): ServiceSpec[] {
  const out: ServiceSpec[] = [];
  for (let i = from; i <= to; i++) out.push({ name: fillerName(i), ports: [{ port: 80 }], pods: [endpoint] });
  return out;
}

/** The probed Service: its backends are the pods labelled PROBE_LABEL=PROBE_LABEL_VALUE. */
export const probeSpec = (): ServiceSpec => ({
  name: PROBE_SERVICE,
  ports: [{ port: PROBE_PORT, targetPort: BACKEND_PORT }],
  selector: { [PROBE_LABEL]: PROBE_LABEL_VALUE },
});

/** A lab whose own Services would sort after the probe (or clash with a filler) cannot run the test as planned. */
export function checkOwnServices(lab: string, names: readonly string[]): void {
  const after = names.find((n) => n >= PROBE_SERVICE || n.startsWith(FILLER_PREFIX));
  if (after !== undefined)
    throw new CnilabError(
      'INVALID_INPUT',
      `lab ${lab}: its Service ${after} would sort after the probed Service ${PROBE_SERVICE} or clash with a ` +
        `filler (${FILLER_PREFIX}…); rename it`,
    );
}

/** The API server's body limit is 64 KiB: batches of at most this much JSON. */
export const BATCH_BYTES = 60 * 1024;

/** `specs` in batches of at most BATCH_BYTES of JSON each, in order. */
export function batches<T>(specs: readonly T[], bytes = BATCH_BYTES): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 20;
  for (const s of specs) {
    const n = JSON.stringify(s).length + 1;
    if (cur.length > 0 && size + n > bytes) {
      out.push(cur);
      cur = [];
      size = 20;
    }
    cur.push(s);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}
