import { writeFileSync } from 'node:fs';
import { ipBatch, ipJson } from '../../lib/netns';
import { ROUTE_PROTO } from '../backend';

/** Makes the agent's routes on `dev` exactly `wanted` (dst → extra `ip route` words). */
export async function syncRoutes(dev: string, wanted: ReadonlyMap<string, readonly string[]>): Promise<void> {
  const current = await ipJson<{ dst: string }[]>(undefined, ['route', 'show', 'proto', ROUTE_PROTO, 'dev', dev]);
  const stale = current.filter((r) => !wanted.has(r.dst)).map((r) => ['route', 'del', r.dst, 'dev', dev, 'proto', ROUTE_PROTO]);
  await ipBatch(undefined, stale, { force: true });
  await ipBatch(undefined, [...wanted].map(([dst, words]) => ['route', 'replace', dst, ...words, 'dev', dev, 'proto', ROUTE_PROTO]));
}

/** The agent runs inside its node's namespace: this is the node's setting, never the host's. */
export function enableForwarding(): void {
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
}
