/**
 * A node's credential through its life in the lab: issued by the controller when the node joins
 * (lab up: each kind's control plane calls `issueCredentials` once its controller and agents are
 * started; `node add`: joinNode, before the kind's part), written to the node's folder (mode
 * 0600), revoked when it leaves (leaveNode). A no-op in a lab that checks no credentials.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { CnilabError } from '../lib/errors';
import { writeCredential } from '../lib/credential';
import { checksCredentials, credentialFile } from './credentials';
import { nodeDir } from './names';
import { controlRequest, poll } from './processes';
import type { ProcessState } from './state';

/** The token the controller issues `node`, or undefined while it does not answer yet. */
async function issue(lab: string, node: string): Promise<string | undefined> {
  let r: { status: number; body: { token?: string; error?: string } };
  try {
    r = await controlRequest<{ token?: string; error?: string }>(lab, 'PUT', `/credentials/${node}`);
  } catch {
    return undefined; // not listening yet
  }
  if (r.status === 200 && r.body.token) return r.body.token;
  throw new CnilabError(
    'AGENT_FAILED',
    `the controller did not issue node ${node} its credential: ${r.status} ${r.body.error ?? ''}`,
  );
}

/**
 * Issues each of `nodes` its credential, once the controller answers (failing early, naming the
 * log, when one of `procs` died), and writes it to the node's folder. The token is in no log, no
 * argv and no message.
 */
export async function issueCredentials(
  lab: string,
  nodes: readonly string[],
  procs: readonly ProcessState[],
  signal?: AbortSignal,
): Promise<void> {
  if (!checksCredentials(lab)) return;
  for (const node of nodes) {
    const token = await poll(`the controller issuing node ${node}'s credential`, () => issue(lab, node), procs, signal);
    mkdirSync(nodeDir(lab, node), { recursive: true });
    writeCredential(credentialFile(lab, node), token);
  }
}

/** Revokes `node`'s credential (its requests get 401 from now on) and removes its file. */
export async function revokeCredential(lab: string, node: string): Promise<void> {
  if (!checksCredentials(lab)) return;
  const r = await controlRequest<{ error?: string }>(lab, 'DELETE', `/credentials/${node}`);
  if (r.status !== 200 && r.status !== 404)
    throw new CnilabError('AGENT_FAILED', `the controller did not revoke node ${node}'s credential: ${r.status}`);
  rmSync(credentialFile(lab, node), { force: true });
}
