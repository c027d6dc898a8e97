/**
 * Where a lab keeps the credentials its controller checks (src/controller/auth/), and whether it
 * checks them at all. All live in the lab's run folder, never in a run's --out folder:
 *   RUN_DIR/admin.credential          the administrator's token (the CLI's), mode 0600
 *   RUN_DIR/credentials.db            the controller's store: the tokens' hashes only
 *   RUN_DIR/nodes/NODE/credential     the node's token, mode 0600, read by the node's processes
 *
 * The switch (until the integration suite has run with it, issue 31): a lab checks credentials
 * when its administrator's credential exists. `startController` makes it for a new lab only when
 * CNILAB_CONTROL_AUTH=1 is set in the CLI's environment; a restarted controller keeps what its lab
 * started with. Without it the controller checks nothing and the nodes' credential files never
 * appear — every process runs as before issue 31.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newToken, writeCredential } from '../lib/credential';
import { nodeDir, runDir } from './names';

/** The CLI's environment variable that makes a new lab's controller check credentials: "1". */
export const CONTROL_AUTH_ENV = 'CNILAB_CONTROL_AUTH';

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
    if (env[CONTROL_AUTH_ENV] !== '1') return [];
    mkdirSync(runDir(lab), { recursive: true });
    writeCredential(admin, newToken());
  }
  return ['--credentials', credentialStoreFile(lab), '--admin-credential', admin];
}
