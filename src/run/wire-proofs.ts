/**
 * The wire proof in a run: each lab whose architecture encrypts (`Architecture.encryption`) is
 * captured on its switch once, before its rows count, while one extra TCP sample of its inter-node
 * cell runs and a marker crosses pod to pod (lab/wire-proof.ts). The sample is kept out of the
 * figures (capturing costs CPU). A lab whose proof fails leaves the rounds: its rows are errors
 * (results.json `skipped` with `failed: true` and the reason), never figures. A lab of an
 * architecture that does not encrypt is not captured at all.
 */
import { messageOf } from '../lib/errors';
import { proveWire, type WireProof } from '../lab/wire-proof';
import { wireName } from '../lab/wire-verdict';
import { tcpSample } from '../traffic/iperf3/run';
import type { LabSpec } from './labs';
import type { PlannedRow } from './plan';
import type { ProofRecord } from './results-proof-schema';
import type { Skipped } from './results-schema';
import type { CellRun } from './sampling';
import { affinityArg, type Affinity } from './tests/test';

/** Seconds of the extra TCP sample in the capture window. */
export const PROOF_SAMPLE_SEC = 1;
/** Seconds planned for a lab's proof: the sample, the markers, tcpdump's start and stop, the file judged. */
export const PROOF_PLAN_SEC = PROOF_SAMPLE_SEC + 2;

export interface ProofOptions {
  readonly affinity?: Affinity;
  readonly signal?: AbortSignal;
  readonly progress: (step: string) => void;
}

/** A running cell of the lab (its inter-node one when it has one), for the extra sample. */
export interface ProofCell {
  readonly run: CellRun;
  readonly path: string;
}

/** Proves the lab of `spec` (named `lab`) when its architecture encrypts; undefined when it does not. */
export async function proveLab(
  spec: LabSpec,
  lab: string,
  cell: ProofCell | undefined,
  o: ProofOptions,
): Promise<ProofRecord | undefined> {
  const enc = spec.arch.encryption;
  if (!enc) return undefined;
  o.progress(`${spec.key}: proving it encrypts on the wire (${wireName(enc.wire)})`);
  const head = {
    arch: spec.arch.name,
    ...(spec.mtu !== undefined ? { underlayMtu: spec.mtu } : {}),
    design: enc.design,
    wire: wireName(enc.wire),
  };
  const sample = cell
    ? async () => {
        await cell.run.ready;
        await tcpSample({
          client: { name: cell.run.where.client },
          serverIp: cell.run.where.serverIp,
          durationSec: PROOF_SAMPLE_SEC,
          affinity: affinityArg(o.affinity),
          signal: o.signal,
        });
      }
    : undefined;
  let proof: WireProof;
  try {
    proof = await proveWire(lab, { wire: enc.wire, ...(sample ? { during: sample } : {}), signal: o.signal });
  } catch (e) {
    if (o.signal?.aborted) throw e;
    return { ...head, ok: false, failures: [`the proof could not be taken: ${messageOf(e)}`], ...zero };
  }
  const v = proof.verdict;
  return {
    ...head,
    ok: v.ok,
    failures: v.failures,
    packets: v.packets,
    designPackets: v.design,
    markers: v.markers,
    podAddressed: v.podAddressed,
    betweenNodes: v.betweenNodes,
    controlPlane: v.controlPlane,
    ...(v.dropped !== undefined ? { dropped: v.dropped } : {}),
    ...(cell ? { sample: `tcp ${PROOF_SAMPLE_SEC} s ${cell.path}` } : {}),
    from: proof.from,
    to: proof.to,
  };
}

const zero = { packets: 0, designPackets: 0, markers: 0, podAddressed: 0, betweenNodes: {}, controlPlane: {} };

/** The rows of a lab whose proof failed, as errors: each row's cell and test, the reason. */
export function failedRows(rows: readonly PlannedRow[], lab: string, p: ProofRecord): Skipped[] {
  const reason = `the wire proof failed, so no figure: ${p.failures.join('; ')}`;
  const seen = new Set<string>();
  const out: Skipped[] = [];
  for (const r of rows.filter((x) => x.lab === lab)) {
    const k = `${r.cell.path} ${r.test}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ arch: r.cell.arch.name, path: r.cell.path, test: r.test, reason, failed: true });
  }
  return out;
}

/**
 * Every encrypted lab of `specs` that is up, proven (`up`: lab key → lab name; `cells`: the run's
 * cells by "<lab key> <path>"); the rows of a lab that fails leave `rows` (in place) and come back
 * as errors.
 */
export async function proveLabs<M extends { readonly row: PlannedRow }>(
  specs: readonly LabSpec[],
  up: ReadonlyMap<string, string>,
  cells: ReadonlyMap<string, CellRun>,
  rows: M[],
  o: ProofOptions,
): Promise<{ proofs: ProofRecord[]; failed: Skipped[] }> {
  const proofs: ProofRecord[] = [];
  const failed: Skipped[] = [];
  for (const spec of specs) {
    const lab = up.get(spec.key);
    if (!spec.arch.encryption || lab === undefined) continue;
    const mine = [...cells].filter(([k]) => k.startsWith(`${spec.key} `));
    const [key, run] = mine.find(([k]) => k === `${spec.key} inter-node`) ?? mine[0] ?? [];
    const cell = run && key ? { run, path: key.slice(spec.key.length + 1) } : undefined;
    const p = await proveLab(spec, lab, cell, o);
    if (!p) continue;
    proofs.push(p);
    if (p.ok) continue;
    failed.push(
      ...failedRows(
        rows.map((m) => m.row),
        spec.key,
        p,
      ),
    );
    for (let i = rows.length - 1; i >= 0; i--) if (rows[i]!.row.lab === spec.key) rows.splice(i, 1);
  }
  return { proofs, failed };
}
