/**
 * One timed realization of the policy-scale test: the second client probing the server (denied:
 * the server is isolated) with a fresh connection every millisecond (realize-probe.ts), the policy
 * allowing it sent without waiting, the time to its first connection established; the policy
 * deleted again.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { CnilabError } from '../../lib/errors';
import { startWatched, stopPid } from '../../lib/exec';
import { inNetns } from '../../lib/netns';
import { applyPolicies, deletePolicies } from '../../lab/policy-apply';
import { policiesEnforced, policyRevision } from '../../lab/policy';
import { agentsOf, labOf, type LabRun } from './lab-run';
import { createdKeys, CRR_PORT, REALIZE_POLICY, realizePolicy } from './policies';

/** How long one realization may take before the run fails, s. */
const REALIZE_DEADLINE_SEC = 60;
/**
 * The realization probe starts a fresh connection this often, ms, and at least this % of the time
 * since it began: within 1 ms (or 1%) of the realization, and a few hundred connections a change.
 */
const REALIZE_EVERY_MS = 1;
const REALIZE_EVERY_PCT = 1;

const wallMs = (): number => performance.timeOrigin + performance.now();

const PROBE_MAIN = join(__dirname, 'realize-probe.js');

/** The realization probe started in `ns` (realize-probe.ts): `started` once it connects, `done` with its line. */
function startProbe(
  ns: string,
  host: string,
): { started: Promise<void>; done: Promise<ProbeLine>; stop(): Promise<void> } {
  const args = [PROBE_MAIN, '--host', host, '--port', String(CRR_PORT), '--deadline-sec', String(REALIZE_DEADLINE_SEC)];
  args.push('--every-ms', String(REALIZE_EVERY_MS), '--every-pct', String(REALIZE_EVERY_PCT));
  const child = startWatched(...inNetns({ name: ns }, process.execPath, args));
  let out = '';
  let err = '';
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('started\n')) onStarted();
  });
  const done = once(child, 'close').then(() => {
    const last = out.trim().split('\n').at(-1) ?? '';
    if (!last.startsWith('{'))
      throw new CnilabError('EXEC_FAILED', `realization probe in ${ns} gave no result: ${err.trim()}`);
    return JSON.parse(last) as ProbeLine;
  });
  // One that exits before it started ends the wait for that too (done says why).
  void done.then(onStarted, onStarted);
  const pid = child.pid!;
  return { started, done, stop: () => stopPid(pid) };
}

interface ProbeLine {
  readonly firstAt?: number;
  readonly attempts: number;
}

/**
 * One timed realization: the second client connecting (denied: the server is isolated) — a fresh
 * connection every millisecond, seen started (an event) — then the policy allowing it sent without
 * waiting; the time until its first connection established. Then the policy deleted (waited for).
 * Returns the time, the revision before and the revision the change made.
 */
export async function realize(
  l: LabRun,
  signal?: AbortSignal,
): Promise<{ ms: number; after: number; revision: number }> {
  const lab = labOf(l);
  const after = await policyRevision(lab);
  const p = startProbe(l.client2.netns, l.server.ip);
  let t0: number;
  let revision: number;
  let r: ProbeLine;
  try {
    await p.started;
    signal?.throwIfAborted();
    t0 = wallMs();
    l.realize = true;
    revision = (await applyPolicies(lab, [realizePolicy(l.server.name, l.client2.name)], false)).revision;
    r = await p.done;
  } catch (e) {
    await p.stop();
    throw e;
  }
  if (r.firstAt !== undefined && r.firstAt < t0)
    throw new CnilabError(
      'TRAFFIC_FAILED',
      `policy-scale in lab ${lab}: ${l.client2.name} reached ${l.server.name} before any policy allowed it ` +
        `(${l.design}): the server is not isolated`,
    );
  if (r.firstAt === undefined)
    throw new CnilabError(
      'TRAFFIC_FAILED',
      `policy-scale in lab ${lab}: ${l.client2.name} got no connection to ${l.server.name} within ` +
        `${REALIZE_DEADLINE_SEC} s of ${REALIZE_POLICY} being applied (${l.design}; ${r.attempts} tries)`,
    );
  await policiesEnforced(lab, agentsOf(lab), signal, revision);
  await deletePolicies(lab, createdKeys(0, false, true), true);
  l.realize = false;
  return { ms: r.firstAt - t0, after, revision };
}
