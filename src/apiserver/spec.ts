/**
 * The CLI's words for the API server's objects, parsed into them: a port `[name=]80[:8080][/tcp|udp]`,
 * a selector `k=v,k2=v2`, and kubectl's label changes `KEY=VALUE` (set) and `KEY-` (remove). Every
 * refusal is one line naming the flag or argument.
 */
import { CnilabError } from '../lib/errors';
import { labelKey, labelValue, NODE_LABEL, POD_LABEL, type Labels } from './model';

export interface PortSpec {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number;
  readonly protocol: 'tcp' | 'udp';
}

const PORT = /^(?:([a-z0-9][-a-z0-9]*)=)?(\d+)(?::(\d+))?(?:\/(\w+))?$/;

function portNumber(flag: string, text: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new CnilabError('INVALID_INPUT', `${flag}: ${JSON.stringify(text)}: ${v} is not a port from 1 to 65535`);
  return n;
}

/** The ports of `--port` values (each may be a comma list). */
export function parsePorts(values: readonly string[], flag = '--port'): PortSpec[] {
  const items = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  if (items.length === 0 || items.some((i) => i === ''))
    throw new CnilabError('INVALID_INPUT', `${flag}: give at least one port, like 80 or http=80:8080/tcp`);
  return items.map((text) => {
    const m = PORT.exec(text);
    if (!m)
      throw new CnilabError(
        'INVALID_INPUT',
        `${flag}: ${JSON.stringify(text)} is not [name=]port[:targetPort][/tcp|udp]`,
      );
    const protocol = (m[4] ?? 'tcp').toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp')
      throw new CnilabError('INVALID_INPUT', `${flag}: ${JSON.stringify(text)}: protocol must be tcp or udp`);
    const port = portNumber(flag, text, m[2]!);
    return { name: m[1] ?? '', port, targetPort: m[3] ? portNumber(flag, text, m[3]) : port, protocol };
  });
}

function pair(flag: string, text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new CnilabError('INVALID_INPUT', `${flag}: ${JSON.stringify(text)} is not KEY=VALUE`);
  const [k, v] = [text.slice(0, at), text.slice(at + 1)];
  if (!labelKey.safeParse(k).success)
    throw new CnilabError('INVALID_INPUT', `${flag}: ${JSON.stringify(k)} is not a label key`);
  if (!labelValue.safeParse(v).success)
    throw new CnilabError(
      'INVALID_INPUT',
      `${flag}: ${JSON.stringify(v)} is not a label value (≤63 letters, digits, - _ .)`,
    );
  return [k, v];
}

/** `k=v,k2=v2` as labels. */
export function parseSelector(text: string, flag = '--selector'): Labels {
  const pairs = text.split(',').map((p) => pair(flag, p.trim()));
  const keys = pairs.map(([k]) => k);
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice) throw new CnilabError('INVALID_INPUT', `${flag}: ${twice} is given twice`);
  return Object.fromEntries(pairs);
}

/** `a,b` as pod names, none twice. */
export function parseNames(text: string, flag: string): string[] {
  const names = text.split(',').map((n) => n.trim());
  if (names.some((n) => n === ''))
    throw new CnilabError('INVALID_INPUT', `${flag}: an empty name in ${JSON.stringify(text)}`);
  return names;
}

/**
 * `current` changed by kubectl-style `changes` (KEY=VALUE, KEY-). A value that differs from the
 * current one needs `overwrite`, as `kubectl label --overwrite`; the pod's own labels are not the
 * caller's to change.
 */
export function applyLabelChanges(current: Labels, changes: readonly string[], overwrite: boolean): Labels {
  if (changes.length === 0) throw new CnilabError('INVALID_INPUT', 'KEY=VALUE: give at least one label change');
  const next: Record<string, string> = { ...current };
  for (const c of changes) {
    const removing = c.endsWith('-') && !c.includes('=');
    const key = removing ? c.slice(0, -1) : c.slice(0, Math.max(c.indexOf('='), 0));
    if (key === NODE_LABEL || key === POD_LABEL)
      throw new CnilabError('INVALID_INPUT', `${c}: ${key} is the pod's own label, set by the API server`);
    if (removing) {
      if (!labelKey.safeParse(key).success)
        throw new CnilabError('INVALID_INPUT', `${c}: ${JSON.stringify(key)} is not a label key`);
      delete next[key];
      continue;
    }
    const [k, v] = pair('KEY=VALUE', c);
    if (k in current && current[k] !== v && !overwrite)
      throw new CnilabError('INVALID_INPUT', `${k}: already ${current[k]}; give --overwrite to change it`);
    next[k] = v;
  }
  return next;
}
