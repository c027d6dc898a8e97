import { writeFileSync } from 'node:fs';
import { ipJson } from '../../lib/netns';
import { ROUTE_PROTO } from './backend';

/** A change set for `ip -batch`: deletions (may already be gone) and additions. */
export interface Changes {
  readonly del: string[][];
  readonly add: string[][];
}

export interface WantedRoute {
  readonly dst: string;
  readonly via: string;
  readonly onlink?: boolean;
}

/** The routes on `dev` this agent installed (tagged with its protocol number). */
export function readRoutes(dev: string): Promise<{ dst: string; gateway?: string }[]> {
  return ipJson<{ dst: string; gateway?: string }[]>(undefined, ['route', 'show', 'proto', ROUTE_PROTO, 'dev', dev]);
}

/** What turns the agent's routes on `dev` into exactly `wanted`; routes already right are left alone. */
export function routeChanges(
  dev: string,
  current: readonly { dst: string; gateway?: string }[],
  wanted: readonly WantedRoute[],
): Changes {
  const want = new Map(wanted.map((w) => [w.dst, w]));
  const have = new Map(current.map((c) => [c.dst, c.gateway]));
  return {
    del: current
      .filter((c) => want.get(c.dst)?.via !== c.gateway)
      .map((c) => ['route', 'del', c.dst, 'dev', dev, 'proto', ROUTE_PROTO]),
    add: wanted
      .filter((w) => have.get(w.dst) !== w.via)
      .map((w) => [
        'route',
        'replace',
        w.dst,
        'via',
        w.via,
        ...(w.onlink ? ['onlink'] : []),
        'dev',
        dev,
        'proto',
        ROUTE_PROTO,
      ]),
  };
}

/** The agent runs inside its node's namespace: this is the node's setting, never the host's. */
export function enableForwarding(): void {
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
}
