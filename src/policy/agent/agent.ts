/**
 * The policy agent: Felix's (or Cilium agent's) policy loop on one node, in small. It long-polls
 * the API server for its node's share of the policies (GET /api/policy/NODE, policy/model.ts's
 * PolicyInput) and has its design program each new one, handing it what the last successful sync
 * programmed so that it writes only the difference. After a failure, or at start, the design
 * writes everything over what is there, in one step: an agent's restart never opens an isolated
 * pod. Records, as the proxy agent's: `syncs.jsonl` (revision, full or partial, ms, written) and
 * `synced`, the revision enforced — what `cnilab policy apply` waits for.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../../lib/errors';
import { sleep } from '../../lib/exec';
import { writeFileAtomic } from '../../lib/fs';
import { call } from '../../node/client';
import type { PolicyDesign, PolicyNode } from '../design';
import type { PolicyInput } from '../model';

export interface PolicyAgentOptions {
  readonly controller: string;
  readonly node: string;
  readonly design: PolicyDesign;
  readonly where: PolicyNode;
  /** Where its records go (syncs.jsonl, synced). */
  readonly runDir: string;
  readonly credential?: string;
  readonly log: (line: string) => void;
  /** Seconds a long poll waits for a change. Default: 30. */
  readonly waitSec?: number;
}

export const POLICY_SYNCED_FILE = 'synced';
export const POLICY_SYNCS_FILE = 'syncs.jsonl';

/** One line of syncs.jsonl. */
export interface PolicySyncRecord {
  readonly revision: number;
  readonly at: number;
  readonly kind: 'full' | 'partial';
  readonly ms: number;
  readonly written: number;
  readonly policies: number;
  readonly isolated: number;
}

/** The input without its revision: two inputs that differ only there program the same. */
const content = (i: PolicyInput): string => JSON.stringify({ ...i, revision: 0 });

/** Runs until `signal` aborts; what the design programmed stays (it goes with the node's namespace). */
export async function runPolicyAgent(o: PolicyAgentOptions, signal: AbortSignal): Promise<void> {
  mkdirSync(o.where.dir, { recursive: true });
  mkdirSync(o.runDir, { recursive: true });
  o.log(`${o.design.name} policy on ${o.node}: ${await o.design.backend()}`);
  let programmed: PolicyInput | undefined;
  let revision = 0;
  while (!signal.aborted) {
    try {
      const wait = programmed ? (o.waitSec ?? 30) : 0;
      const input = await call<PolicyInput>(`${o.controller}/api/policy/${o.node}?since=${revision}&wait=${wait}`, {
        signal,
        ...(o.credential ? { credential: o.credential } : {}),
      });
      if (programmed && input.revision === revision) continue;
      if (!programmed || content(input) !== content(programmed)) {
        const r = await o.design.sync(o.where, input, programmed);
        const rec: PolicySyncRecord = {
          revision: input.revision,
          at: Date.now(),
          ...r,
          policies: input.policies.length,
          isolated: input.endpoints.filter((e) => e.ingress.length || e.egress.length).length,
        };
        appendFileSync(join(o.runDir, POLICY_SYNCS_FILE), `${JSON.stringify(rec)}\n`);
      }
      programmed = input;
      revision = input.revision;
      writeFileAtomic(join(o.runDir, POLICY_SYNCED_FILE), String(revision));
    } catch (e) {
      if (signal.aborted) break;
      programmed = undefined;
      o.log(`policy sync failed, retrying: ${messageOf(e)}`);
      await sleep(200, signal).catch(() => undefined);
    }
  }
}
