/**
 * A policy file as `kubectl apply -f` takes it: one or more YAML (or JSON) documents, each a
 * NetworkPolicy, or a `kind: List` of them. Every refusal is one line naming the file, the document
 * and the field: "deny.yaml: document 2 (web): spec.ingress[0].ports[0].port: Invalid value: 0: …".
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { CnilabError, messageOf } from '../lib/errors';
import { policyKey, type NetworkPolicy } from './model';
import { toPolicy } from './spec';

/** The documents of `text` as NetworkPolicies, refusals prefixed with `where`. */
export function parsePolicies(text: string, where: string): NetworkPolicy[] {
  const docs = [...parseAllDocuments(text)];
  const items: { doc: unknown; at: string }[] = [];
  docs.forEach((d, i) => {
    const at = `document ${i + 1}`;
    if (d.errors.length)
      throw new CnilabError('INVALID_INPUT', `${where}: ${at}: not YAML: ${d.errors[0]!.message.split('\n')[0]}`);
    const value: unknown = d.toJS();
    if (value === null || value === undefined) return;
    if (typeof value === 'object' && (value as { kind?: unknown }).kind === 'List') {
      const list = (value as { items?: unknown }).items;
      if (!Array.isArray(list))
        throw new CnilabError('INVALID_INPUT', `${where}: ${at}: items: a List needs an items array`);
      list.forEach((doc, j) => items.push({ doc, at: `${at}, items[${j}]` }));
    } else items.push({ doc: value, at });
  });
  if (items.length === 0) throw new CnilabError('INVALID_INPUT', `${where}: no NetworkPolicy in it`);
  const seen = new Set<string>();
  return items.map(({ doc, at }) => {
    const name = (doc as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    const label = typeof name === 'string' ? `${at} (${name})` : at;
    let p: NetworkPolicy;
    try {
      p = toPolicy(doc);
    } catch (e) {
      throw new CnilabError('INVALID_INPUT', `${where}: ${label}: ${messageOf(e)}`, { cause: e });
    }
    if (seen.has(policyKey(p)))
      throw new CnilabError('INVALID_INPUT', `${where}: ${label}: ${policyKey(p)} is in the file twice`);
    seen.add(policyKey(p));
    return p;
  });
}

/** The policies of file `path`. */
export function readPolicyFile(path: string): NetworkPolicy[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CnilabError(
      'INVALID_INPUT',
      `${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? messageOf(e)})`,
    );
  }
  return parsePolicies(text, path);
}
