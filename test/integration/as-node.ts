/**
 * Sends requests to the controller from the namespace it runs in, as a node's process would:
 *   node as-node.js URL [CREDENTIAL_FILE]   stdin: a JSON list of {method, path, body?}
 * stdout: a JSON list of {status, error?}. The token is read from the file (never in argv); without
 * a file, the requests go without a credential.
 */
import { readFileSync } from 'node:fs';
import { httpJson } from '../../src/lib/http-json';
import type { Attempt } from '../../src/controller/service';

export interface Answer {
  readonly status: number;
  readonly error?: string;
}

async function main(): Promise<void> {
  const [url, credential] = process.argv.slice(2);
  const attempts = JSON.parse(readFileSync(0, 'utf8')) as Attempt[];
  const answers: Answer[] = [];
  for (const a of attempts) {
    const r = await httpJson<{ error?: string }>(`${url}${a.path}`, {
      method: a.method,
      body: a.body,
      ...(credential ? { credential } : {}),
    });
    answers.push({ status: r.status, ...(r.body?.error ? { error: r.body.error } : {}) });
  }
  process.stdout.write(JSON.stringify(answers));
}

if (require.main === module)
  main().catch((e: Error) => {
    process.stderr.write(`as-node: ${e.message}\n`);
    process.exit(1);
  });
