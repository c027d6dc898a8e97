/** What every command shares: the version, errors as one line (or JSON), and Ctrl-C as an abort. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CnilabError, codeOf, exitCodeOf, messageOf } from '../lib/errors';
import { REPO_ROOT } from '../lib/paths';

export const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Runs a command body; turns errors into one line on stderr (or JSON on stdout) and exit 1. Ctrl-C
 * while it runs aborts it; after it ended, the process exits at once with the command's own code
 * (the signal's default would report a finished command as killed).
 */
export async function runCommand(
  json: boolean | undefined,
  body: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  let interrupted = false;
  let finished = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (finished) process.exit(process.exitCode ?? 0);
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\ncnilab: ${sig}: stopping and cleaning up…\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await body(controller.signal);
  } catch (e) {
    const code = interrupted ? 'ABORTED' : codeOf(e);
    const message = interrupted ? 'interrupted; everything the command created was removed' : messageOf(e);
    if (json) printJson({ error: { code, message } });
    else process.stderr.write(`cnilab: ${message}\n`);
    if (code === 'INTERNAL' && process.env.CNILAB_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = interrupted ? exitCodeOf(new CnilabError('ABORTED', message)) : exitCodeOf(e);
  } finally {
    finished = true;
  }
}

export function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function positiveNumber(name: string, integer = false): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new CnilabError(
        'INVALID_INPUT',
        `${name}: ${JSON.stringify(v)} must be a positive ${integer ? 'integer' : 'number'}`,
      );
    return n;
  };
}
