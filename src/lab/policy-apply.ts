/**
 * `cnilab policy apply|delete|list` as library calls: policies sent to the lab's API server in
 * batches (its bodies stop at 64 KiB; each batch one revision, all or none, the whole set checked
 * before the first), then — unless told not to — a wait until every node's agent enforces the
 * last revision. A lab whose kind enforces no policy stores them and says so: never silently.
 */
import { apiRequest } from '../apiserver/client';
import type { ApplyOutcome } from '../apiserver/policy-table';
import { architectures } from '../arch';
import { CnilabError } from '../lib/errors';
import { policyKey, type NetworkPolicy } from '../policy/model';
import { requireState } from './state';
import { POLICY_ROLE, policiesEnforced, policyDesign } from './policy';

/** Who enforces a lab's policies: the design and its nodes, or why no one does. */
export type Enforcement =
  | { readonly enforced: true; readonly design: string; readonly nodes: readonly string[] }
  | { readonly enforced: false; readonly reason: string };

export interface PolicyChange {
  readonly revision: number;
  readonly results: readonly { readonly key: string; readonly outcome: ApplyOutcome | 'deleted' }[];
  readonly enforcement: Enforcement;
  /** From sending until every node enforced the revision, ms; undefined without waiting or enforcement. */
  readonly enforcedMs?: number;
}

export function enforcementOf(lab: string): Enforcement {
  const state = requireState(lab);
  const arch = architectures.get(state.arch);
  const design = policyDesign(state.topology, arch);
  const nodes = state.processes.filter((p) => p.role === POLICY_ROLE).map((p) => p.node);
  if (design && nodes.length) return { enforced: true, design: design.name, nodes };
  const reason = !arch.control.policy
    ? `architecture ${arch.name} enforces no NetworkPolicy (flannel, macvlan, ipvlan and Kuryr do not here)`
    : design
      ? `no policy agent runs in lab ${lab}`
      : state.topology.policyDataplane === undefined
        ? `lab ${lab}'s pods have ipFamilies [${state.topology.ipFamilies.join(', ')}], and ${arch.name}'s ` +
          `NetworkPolicy designs enforce on IPv4 only (docs/ipv6.md): no policy agent runs`
        : `lab ${lab} was built with policyDataplane: none`;
  return { enforced: false, reason };
}

/** `items` cut into bodies under the API server's 64 KiB. */
function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 32;
  for (const it of items) {
    const n = JSON.stringify(it).length + 1;
    if (cur.length && size + n > 60_000) {
      out.push(cur);
      cur = [];
      size = 32;
    }
    cur.push(it);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

async function settle(
  lab: string,
  revision: number,
  results: PolicyChange['results'],
  wait: boolean,
  t0: number,
): Promise<PolicyChange> {
  const enforcement = enforcementOf(lab);
  if (!wait || !enforcement.enforced) return { revision, results, enforcement };
  const agents = requireState(lab).processes.filter((p) => p.role === POLICY_ROLE);
  await policiesEnforced(lab, agents, undefined, revision);
  return { revision, results, enforcement, enforcedMs: performance.now() - t0 };
}

/** The Kubernetes documents of `policies` (what the API server validates again). */
export function toDocument(p: NetworkPolicy): unknown {
  const rules = (rs: NetworkPolicy['ingress'], peer: 'from' | 'to'): unknown[] =>
    rs.map((r) => ({
      ...(r.peers ? { [peer]: r.peers } : {}),
      ...(r.ports ? { ports: r.ports.map((x) => ({ ...x, protocol: x.protocol.toUpperCase() })) } : {}),
    }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: p.name, namespace: p.namespace },
    spec: {
      podSelector: p.podSelector,
      policyTypes: p.policyTypes,
      ...(p.policyTypes.includes('Ingress') || p.ingress.length ? { ingress: rules(p.ingress, 'from') } : {}),
      ...(p.policyTypes.includes('Egress') || p.egress.length ? { egress: rules(p.egress, 'to') } : {}),
    },
  };
}

/** Creates or replaces `policies` in `lab`; with `wait`, returns once every node enforces them. */
export async function applyPolicies(
  lab: string,
  policies: readonly NetworkPolicy[],
  wait = true,
): Promise<PolicyChange> {
  const t0 = performance.now();
  let revision = 0;
  const results: { key: string; outcome: ApplyOutcome }[] = [];
  for (const b of batches(policies.map(toDocument))) {
    const r = await apiRequest<{ revision: number; applied: { key: string; outcome: ApplyOutcome }[] }>(
      lab,
      'PUT',
      '/api/policies',
      { items: b },
    );
    revision = r.revision;
    results.push(...r.applied);
  }
  return settle(lab, revision, results, wait, t0);
}

/** Deletes the policies `keys` ("namespace/name") from `lab`, all checked there first. */
export async function deletePolicies(
  lab: string,
  wanted: readonly string[],
  wait = true,
  ignoreNotFound = false,
): Promise<PolicyChange> {
  const t0 = performance.now();
  const { policies, revision: now } = await listPolicies(lab);
  const have = new Set(policies.map(policyKey));
  const keys = ignoreNotFound ? wanted.filter((k) => have.has(k)) : wanted;
  const missing = keys.find((k) => !have.has(k));
  if (keys.length === 0) return settle(lab, now, [], wait, t0);
  if (missing) {
    throw new CnilabError(
      'NOT_FOUND',
      `NetworkPolicy ${missing}: no such policy in lab ${lab}; see cnilab policy list`,
    );
  }
  let revision = 0;
  for (const b of batches(keys))
    revision = (await apiRequest<{ revision: number }>(lab, 'DELETE', '/api/policies', { keys: b })).revision;
  return settle(
    lab,
    revision,
    keys.map((key) => ({ key, outcome: 'deleted' as const })),
    wait,
    t0,
  );
}

export async function listPolicies(lab: string): Promise<{ revision: number; policies: NetworkPolicy[] }> {
  return apiRequest(lab, 'GET', '/api/policies');
}
