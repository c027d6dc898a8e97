/**
 * The policy-scale test's plan (pure): one lab per architecture whose kind enforces NetworkPolicy
 * (ControlPlane.policy), each measured with every design its kind offers whose kernel features are
 * present; the others skipped saying why. Each lab needs three pods: the client on one compute
 * node, the server on another, and a second client (the realization probe's) on either — and
 * addresses apart from the fillers' peers (policies.ts).
 */
import { missingReason } from '../../doctor/features';
import { CnilabError } from '../../lib/errors';
import type { Topology } from '../../topology/schema';
import { cellOf, measurable, type AfterCell, type AfterPlanContext } from '../after/test';
import type { Skipped } from '../results-schema';
import { checkFillerRange } from './policies';

export interface PolicyScaleSettings {
  /** N: the rules (filler policies) in the lab when the probed connection is measured, ascending; 0 = none. */
  readonly rules: readonly number[];
  /** Connections for CRR and connect latency, per design and N. */
  readonly connections: number;
  /** Policy changes timed for realization latency, per design and N ≥ 1. */
  readonly changes: number;
  /** iperf3's seconds per block (BLOCKS blocks per design and N). */
  readonly throughputSec: number;
  /** The catalogue's cases run for each design before the sweep; undefined: every one. */
  readonly cases?: readonly string[];
}

export const POLICY_SCALE_DEFAULTS: PolicyScaleSettings = {
  rules: [0, 100, 1000],
  connections: 1000,
  changes: 10,
  throughputSec: 1,
};

/** The most rules a run may ask for: issue 33's sweep ends at 10,000. */
export const POLICY_SCALE_MAX = 10_000;

/** A lab the test runs in: the designs measured in it, its own (restored at the end), its three pods. */
export interface PolicyScaleCell extends AfterCell {
  readonly designs: readonly string[];
  /** The design the lab was built with: the one it enforces with again afterwards. */
  readonly own: string;
  /** The lab's policyDataplane as built (undefined: its kind's default), recorded again afterwards. */
  readonly setting?: string;
  readonly client: string;
  readonly server: string;
  /** The realization probe's client: isolated from the server until the timed policy allows it. */
  readonly client2: string;
}

/** The client (the first pod of the first compute node with one), the server on another node, a third pod. */
export function podsFor(t: Pick<Topology, 'pods'>): { client: string; server: string; client2: string } | undefined {
  const first = t.pods[0];
  const server = t.pods.find((p) => first && p.node !== first.node);
  const client2 = t.pods.find((p) => p !== first && p !== server);
  return first && server && client2 ? { client: first.name, server: server.name, client2: client2.name } : undefined;
}

/** The topology's address ranges checked against the fillers' (a filler matching a real peer would be wrong). */
export function checkTopologyRanges(t: Pick<Topology, 'name' | 'podCidr' | 'underlay'>): void {
  checkFillerRange(t.name, [], [t.podCidr, t.underlay.cidr]);
}

export function planPolicyScale(ctx: AfterPlanContext): { cells: PolicyScaleCell[]; skipped: Skipped[] } {
  const cells: PolicyScaleCell[] = [];
  const skipped: Skipped[] = [];
  const skip = (arch: string, reason: string): number => skipped.push({ arch, test: 'policy-scale', reason });
  const pods = podsFor(ctx.topology);
  for (const arch of [...new Set(ctx.archs)]) {
    const offered = arch.control.policy?.designs ?? [];
    const designs = offered.filter((d) => !missingReason(ctx.features, d.requires));
    if (!arch.control.attachesPods) skip(arch.name, 'no pods: no NetworkPolicy to measure');
    else if (!offered.length) skip(arch.name, 'enforces no NetworkPolicy');
    else if (!measurable(ctx, arch))
      continue; // the run says why elsewhere
    else if (ctx.topology.policyDataplane === 'none')
      skip(arch.name, 'built with policyDataplane: none (no policy agent)');
    else if (!designs.length)
      skip(arch.name, `${offered[0]!.name}: ${missingReason(ctx.features, offered[0]!.requires)}`);
    else if (!pods)
      skip(arch.name, 'needs three pods, the client and the server on different compute nodes (and a second client)');
    else {
      // the run's policyDataplane holds for the kinds offering it (run/labs.ts); the others keep their default
      const asked = ctx.topology.policyDataplane;
      const setting = asked !== undefined && offered.some((d) => d.name === asked) ? asked : undefined;
      const own = setting ?? offered[0]!.name;
      cells.push({
        ...cellOf(arch, ctx),
        designs: designs.map((d) => d.name),
        own,
        ...(setting ? { setting } : {}),
        ...pods,
      });
    }
  }
  return { cells, skipped };
}

/** The rules, checked: whole numbers from 0 to POLICY_SCALE_MAX, sorted once; one line naming the flag. */
export function checkRules(rules: readonly number[]): number[] {
  const bad = rules.find((n) => !Number.isInteger(n) || n < 0 || n > POLICY_SCALE_MAX);
  if (bad !== undefined)
    throw new CnilabError(
      'INVALID_INPUT',
      `--policy-rules: ${bad} must be a whole number of rules from 0 to ${POLICY_SCALE_MAX}, e.g. 0,100,1000`,
    );
  return [...new Set(rules)].sort((a, b) => a - b);
}

/**
 * Planned seconds of one design at N rules, with a margin: applying the N policies and their sync
 * (iptables' restore grows with N; about 1 ms a policy assumed), the connections one at a time, the
 * throughput blocks, the changes (each applied and deleted, waited for), the policies' removal.
 */
export function policyScalePlannedSec(n: number, s: PolicyScaleSettings, blocks: number): number {
  const load = 2e-3 * n;
  return 5 + 3 * load + s.connections / 500 + blocks * (s.throughputSec + 1) + (n ? s.changes * (1 + load) : 0);
}
