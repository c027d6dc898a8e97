/**
 * User-space tunnels written in C, run on two nodes of a lab as yardsticks for cnilab's own:
 * socat (TUN + UDP) and OpenVPN (--dev tun --proto udp, no encryption). Both carry IP in UDP
 * through a TUN with MTU 1472, like flannel's udp backends. Needs scripts/setup.sh --bench.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { run, sleep, stopPid } from '../src/lib/exec';
import { nodeNetns } from '../src/lab/names';
import { startIperf3Server, tcpSample, type TcpSample } from '../src/traffic/iperf3/run';

export const TUNNEL_MTU = '1472';

export const C_TUNNELS = {
  socat: {
    dev: 'cs0',
    ip: '10.99.0.2',
    argv: (n: 1 | 2): string[] => [
      'socat',
      `TUN:10.99.0.${n}/24,tun-type=tun,tun-name=cs0,iff-no-pi,up`,
      `UDP-DATAGRAM:198.18.0.${n === 1 ? 3 : 2}:9000,bind=198.18.0.${n + 1}:9000`,
    ],
  },
  openvpn: {
    dev: 'ov0',
    ip: '10.98.0.2',
    argv: (n: 1 | 2): string[] => [
      'openvpn',
      '--dev',
      'ov0',
      '--dev-type',
      'tun',
      '--proto',
      'udp',
      '--local',
      `198.18.0.${n + 1}`,
      '--remote',
      `198.18.0.${n === 1 ? 3 : 2}`,
      '--port',
      '1194',
      '--ifconfig',
      `10.98.0.${n}`,
      `10.98.0.${3 - n}`,
      '--tun-mtu',
      TUNNEL_MTU,
      '--cipher',
      'none',
      '--auth',
      'none',
      '--disable-dco',
      '--verb',
      '0',
    ],
  },
} as const;
export type CTunnel = keyof typeof C_TUNNELS;

export function assertCTunnelsInstalled(): void {
  for (const tool of Object.keys(C_TUNNELS))
    if (!existsSync(`/usr/bin/${tool}`) && !existsSync(`/usr/sbin/${tool}`))
      throw new Error(`${tool} is not installed: run scripts/setup.sh --bench`);
}

/** TCP from one namespace to an address in another, `streams` in parallel: Gbit/s and the sample. */
export async function measureTcp(
  client: string,
  server: string,
  ip: string,
  duration: number,
  streams = 1,
): Promise<TcpSample> {
  const srv = startIperf3Server({ name: server }, ip, 5301);
  try {
    return await tcpSample({
      client: { name: client },
      serverIp: ip,
      durationSec: duration,
      omitSec: 1,
      port: 5301,
      streams,
    });
  } finally {
    await srv.stop();
  }
}

/** Runs `fn` while the C tunnel runs between node1 and node2 of `lab` (its TUN up with MTU 1472); stops it by PID. */
export async function withCTunnel<T>(
  lab: string,
  name: CTunnel,
  fn: (ns1: string, ns2: string, ip: string) => Promise<T>,
): Promise<T> {
  const t = C_TUNNELS[name];
  const [n1, n2] = [nodeNetns(lab, 'node1'), nodeNetns(lab, 'node2')];
  const pids = ([1, 2] as const).map(
    (n) => spawn('ip', ['netns', 'exec', n === 1 ? n1 : n2, ...t.argv(n)], { stdio: 'ignore' }).pid!,
  );
  try {
    for (const ns of [n1, n2]) {
      for (let i = 0; (await run('ip', ['-n', ns, 'link', 'show', t.dev], { check: false })).code !== 0; i++) {
        if (i > 100) throw new Error(`${t.dev} did not appear in ${ns}`);
        await sleep(50);
      }
      await run('ip', ['-n', ns, 'link', 'set', t.dev, 'mtu', TUNNEL_MTU, 'up']);
    }
    await sleep(1000); // OpenVPN's handshake
    return await fn(n1, n2, t.ip);
  } finally {
    for (const pid of pids) await stopPid(pid);
  }
}
