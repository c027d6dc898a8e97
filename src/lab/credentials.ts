/**
 * Where a lab keeps the credentials its controller checks (src/controller/auth/), and whether it
 * checks them at all. All live in the lab's run folder, never in a run's --out folder:
 *   RUN_DIR/admin.credential          the administrator's token (the CLI's), mode 0600
 *   RUN_DIR/credentials.db            the controller's store: the tokens' hashes only
 *   RUN_DIR/nodes/NODE/credential     the node's token, mode 0600, read by the node's processes
 *
 * A lab checks credentials when its administrator's credential exists; `startController` makes it
 * for every new lab. The one way around it is the benchmark's: CNILAB_BENCH_CONTROL_AUTH=off in the
 * CLI's environment starts a lab whose controller checks nothing (bench/control-auth.ts measures
 * what the checks cost). A restarted controller keeps what its lab started with.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newToken, writeCredential } from '../lib/credential';
import { nodeDir, runDir } from './names';

/** The benchmark's switch: "off" in the CLI's environment starts a lab whose controller checks nothing. */
export const BENCH_AUTH_OFF_ENV = 'CNILAB_BENCH_CONTROL_AUTH';

export const adminCredentialFile = (lab: string): string => join(runDir(lab), 'admin.credential');
export const credentialStoreFile = (lab: string): string => join(runDir(lab), 'credentials.db');
/** What each of a node's processes is given (--credential, a plugin's `credential`): the path, never the token. */
export const credentialFile = (lab: string, node: string): string => join(nodeDir(lab, node), 'credential');

/** True when the lab's controller checks credentials. */
export function checksCredentials(lab: string): boolean {
  return existsSync(adminCredentialFile(lab));
}

/**
 * The controller's flags for credentials: none when the lab checks none; else the store's file and
 * the administrator's credential file, made first (a new token, mode 0600) for a new lab.
 */
export function controllerAuthArgs(lab: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const admin = adminCredentialFile(lab);
  if (!existsSync(admin)) {
    if (env[BENCH_AUTH_OFF_ENV] === 'off') return [];
    mkdirSync(runDir(lab), { recursive: true });
    writeCredential(admin, newToken());
  }
  return ['--credentials', credentialStoreFile(lab), '--admin-credential', admin];
}
