/**
 * The proxy agent: kube-proxy's loop on one node. It follows the API server's Service ports
 * (follow.ts) and has its mode program each new state, handing the mode what the last successful
 * sync programmed so that it can write only the difference. Every sync is recorded: a line of
 * `syncs.jsonl` in its folder (revision, full or partial, ms, what it wrote), and `synced`, the
 * revision programmed last — what the lab waits for before it says the proxy is ready.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../../lib/errors';
import { sleep } from '../../lib/exec';
import { writeFileAtomic } from '../../lib/fs';
import { call } from '../../node/client';
import type { ProxyInput } from '../model';
import type { ProxyMode, ProxyNode } from '../mode';
import { ServiceView, type ProxyChanges } from './follow';

export interface ProxyAgentOptions {
  /** The controller's URL. */
  readonly controller: string;
  readonly node: string;
  readonly mode: ProxyMode;
  readonly where: ProxyNode;
  /** Where its records go (syncs.jsonl, synced). */
  readonly runDir: string;
  readonly credential?: string;
  readonly log: (line: string) => void;
  /** Seconds a long poll waits for a change. Default: 30. */
  readonly waitSec?: number;
}

/** One line of syncs.jsonl. */
export interface SyncRecord {
  readonly revision: number;
  /** When programming ended, ms since the epoch. */
  readonly at: number;
  readonly kind: 'full' | 'partial';
  readonly ms: number;
  readonly written: number;
  readonly servicePorts: number;
}

/** The revision the agent in `dir` programmed last (its `synced` file), or undefined before the first sync. */
export const SYNCED_FILE = 'synced';
export const SYNCS_FILE = 'syncs.jsonl';

/** Runs until `signal` aborts; the mode's rules stay (the node's namespace goes with the lab). */
export async function runProxyAgent(o: ProxyAgentOptions, signal: AbortSignal): Promise<void> {
  mkdirSync(o.where.dir, { recursive: true });
  mkdirSync(o.runDir, { recursive: true });
  o.log(`${o.mode.name} proxy on ${o.node}: ${await o.mode.backend()}`);
  const view = new ServiceView();
  let programmed: ProxyInput | undefined;
  let pending = false;
  while (!signal.aborted) {
    try {
      if (!pending) {
        const wait = view.revision === 0 && !programmed ? 0 : (o.waitSec ?? 30);
        const c = await call<ProxyChanges>(`${o.controller}/api/proxy?since=${view.revision}&wait=${wait}`, {
          signal,
          ...(o.credential ? { credential: o.credential } : {}),
        });
        pending = view.apply(c) || !programmed;
        if (!pending) continue;
      }
      const input = view.input(o.node);
      const r = await o.mode.sync(o.where, input, programmed);
      programmed = input;
      pending = false;
      const rec: SyncRecord = { revision: view.revision, at: Date.now(), ...r, servicePorts: input.services.length };
      appendFileSync(join(o.runDir, SYNCS_FILE), `${JSON.stringify(rec)}\n`);
      writeFileAtomic(join(o.runDir, SYNCED_FILE), String(view.revision));
    } catch (e) {
      if (signal.aborted) break;
      // kube-proxy's answer to a failed partial sync: the next one writes everything
      programmed = undefined;
      o.log(`sync failed, retrying: ${messageOf(e)}`);
      await sleep(200, signal).catch(() => undefined);
    }
  }
}
