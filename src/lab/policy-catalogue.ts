/**
 * The policy catalogue (policy/catalogue.ts) run in a lab: the catalogue's labels set on its pods,
 * then for each case its policies applied (waiting until enforced), the probe matrix taken, the
 * policies deleted (and for an applied-then-deleted case the matrix taken again). The lab's pods
 * get their own labels back at the end, whatever happens. A lab that holds policies of its own
 * is refused: the catalogue would replace them.
 */
import { apiRequest } from '../apiserver/client';
import type { Pod } from '../apiserver/model';
import { CnilabError } from '../lib/errors';
import { catalogue, catalogueLabels } from '../policy/catalogue';
import type { Matrix } from '../policy/matrix';
import { policyKey } from '../policy/model';
import { applyPolicies, deletePolicies, enforcementOf, listPolicies, type Enforcement } from './policy-apply';
import { probeMatrix } from './policy-probe';
import { requireState } from './state';

export interface CaseResult {
  readonly name: string;
  readonly about: string;
  readonly matrix: Matrix;
  /** The matrix after the case's policies were deleted (applied-then-deleted). */
  readonly afterDelete?: Matrix;
  readonly differences: number;
}

export interface CatalogueResult {
  readonly enforcement: Enforcement;
  readonly cases: readonly CaseResult[];
  readonly differences: number;
}

export interface CatalogueOptions {
  /** Only these cases (by name). */
  readonly cases?: readonly string[];
  readonly timeoutMs?: number;
  readonly progress?: (line: string) => void;
}

export async function runCatalogue(lab: string, o: CatalogueOptions = {}): Promise<CatalogueResult> {
  const state = requireState(lab);
  const held = (await listPolicies(lab)).policies;
  if (held.length)
    throw new CnilabError(
      'CONFLICT',
      `lab ${lab} holds ${held.length} policies (${policyKey(held[0]!)}…): the catalogue needs a lab without any; delete them first`,
    );
  const all = catalogue(state.pods, state.topology.podCidr);
  const unknown = o.cases?.find((c) => !all.some((x) => x.name === c));
  if (unknown)
    throw new CnilabError('INVALID_INPUT', `--cases: no case ${unknown}; known: ${all.map((c) => c.name).join(', ')}`);
  const cases = all.filter((c) => !o.cases || o.cases.includes(c.name));
  const { pods } = await apiRequest<{ pods: Pod[] }>(lab, 'GET', '/api/pods');
  const mine = pods.filter((p) => state.pods.some((s) => s.name === p.name));
  const labels = catalogueLabels(mine.map((p) => p.name));
  const setLabels = (p: Pod, l: Pod['labels']): Promise<unknown> =>
    apiRequest(lab, 'PUT', `/api/pods/${p.name}/labels`, { labels: l });
  const results: CaseResult[] = [];
  try {
    for (const p of mine) await setLabels(p, { ...p.labels, ...labels.get(p.name)! });
    for (const c of cases) {
      o.progress?.(`policy case ${c.name}: ${c.about}`);
      await applyPolicies(lab, c.policies);
      let matrix: Matrix;
      let afterDelete: Matrix | undefined;
      try {
        matrix = await probeMatrix(lab, { ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
      } finally {
        await deletePolicies(lab, c.policies.map(policyKey));
      }
      if (c.then === 'delete')
        afterDelete = await probeMatrix(lab, { ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
      const differences = matrix.differences + (afterDelete?.differences ?? 0);
      results.push({ name: c.name, about: c.about, matrix, ...(afterDelete ? { afterDelete } : {}), differences });
    }
  } finally {
    for (const p of mine) await setLabels(p, p.labels).catch(() => undefined);
  }
  return {
    enforcement: enforcementOf(lab),
    cases: results,
    differences: results.reduce((s, r) => s + r.differences, 0),
  };
}
