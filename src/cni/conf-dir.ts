/**
 * Finding a network's configuration by name in a directory, as libcni's LoadNetworkConf does:
 * `.conflist` files first, then single-plugin `.conf` / `.json` files, each in file-name order; the
 * first whose `name` matches wins.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CnilabError, messageOf } from '../lib/errors';
import { loadConfList } from './runtime';
import type { NetConfList } from './types';

export function loadNetworkByName(dir: string, name: string): NetConfList {
  let files: string[];
  try {
    files = readdirSync(dir).sort();
  } catch (e) {
    throw new CnilabError(
      'INVALID_INPUT',
      `NETCONFPATH ${dir}: cannot read the directory (${messageOf(e)}); set NETCONFPATH to the directory holding ` +
        `your .conflist files`,
    );
  }
  const lists = files.filter((f) => f.endsWith('.conflist'));
  const singles = files.filter((f) => f.endsWith('.conf') || f.endsWith('.json'));
  for (const f of [...lists, ...singles]) {
    const list = loadConfList(join(dir, f));
    if (list.name === name) return list;
  }
  throw new CnilabError(
    'NOT_FOUND',
    `network ${JSON.stringify(name)}: no .conflist, .conf or .json in ${dir} has that name`,
  );
}

/** cnitool's container ID for a namespace path. */
export function cnitoolContainerId(netnsPath: string): string {
  return `cnitool-${createHash('sha512').update(netnsPath).digest('hex').slice(0, 20)}`;
}
