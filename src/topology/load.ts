import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CnilabError, messageOf } from '../lib/errors';
import { resolveTopology, topologyFileSchema, type Topology } from './schema';

/** Parses and validates topology YAML; errors name the source, the field and the problem. */
export function parseTopology(text: string, source: string, overrides: { name?: string } = {}): Topology {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` line ${e.linePos[0].line}` : '';
    throw new CnilabError('INVALID_TOPOLOGY', `${source}:${where} not valid YAML: ${messageOf(e).split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new CnilabError('INVALID_TOPOLOGY', `${source}: must be a mapping with name and topology`);
  if (overrides.name !== undefined) doc = { ...(doc as object), name: overrides.name };
  const parsed = topologyFileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(top level)';
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : issue.code === 'invalid_key'
          ? // the key's own problem, not zod's "Invalid key in record"
            `node name ${issue.issues[0]?.message ?? 'is not valid'}`
          : issue.message;
    throw new CnilabError('INVALID_TOPOLOGY', `${source}: ${field}: ${message}`);
  }
  return resolveTopology(parsed.data);
}

export function loadTopology(file: string | undefined, overrides: { name?: string } = {}): Topology {
  if (file === undefined) return parseTopology('', '(default topology)', overrides);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CnilabError(
      'INVALID_TOPOLOGY',
      `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? messageOf(e)})`,
    );
  }
  return parseTopology(text, file, overrides);
}
