/**
 * Conformance of cnilab's plugins with the reference plugins in IPv6 and dual stack, case by case,
 * over every spec version (the harness: conformance.ts; the IPv4 cases are in cni-conformance.test.ts,
 * the vlan and ipvlan ones of both families in test/kernel/cni-conformance.test.ts). A file of its own:
 * an IPv6 ADD may wait 1 s for duplicate address detection, as the reference's does, and the IPv4
 * file alone nears its time limit on a busy 2-core host.
 *
 * Where DAD runs (ptp, macvlan, bridge with `enabledad`), the harness also asserts that both ADDs
 * returned with no address still tentative; the bridge's default (DAD off) is the dual-stack case.
 * A ping to an IPv6 gateway on the host side may wait for that address's own DAD (the reference
 * does not wait for it either): the harness pings with a deadline.
 */
import { conformanceSuite, hl, type Case } from './conformance';

const CASES: Case[] = [
  {
    name: 'bridge, dual stack: a gateway and a default route per family',
    plugin: (dir) => ({
      type: 'bridge',
      bridge: 'cbr7',
      isGateway: true,
      isDefaultGateway: true,
      ipam: hl(dir, { ranges: [[{ subnet: '10.80.12.0/24' }], [{ subnet: 'fd00:80:12::/64' }]] }),
    }),
    ping: '10.80.12.1',
  },
  {
    name: 'macvlan, IPv6 only: host-local on a /64',
    plugin: (dir) => ({
      type: 'macvlan',
      master: 'up0',
      mode: 'bridge',
      ipam: hl(dir, {
        ranges: [[{ subnet: 'fd00:80:13::/64', rangeStart: 'fd00:80:13::100' }]],
        routes: [{ dst: 'fd00:99::/48', gw: 'fd00:80:13::1' }],
      }),
    }),
  },
  {
    name: 'bridge, IPv6 only, enabledad: host-local with two v6 range sets, rangeStart/rangeEnd, gateway, default route',
    plugin: (dir) => ({
      type: 'bridge',
      bridge: 'cbr8',
      isGateway: true,
      isDefaultGateway: true,
      enabledad: true, // DAD on in the container: ADD waits for it (the default, off, is the dual-stack case's)
      ipam: hl(dir, {
        ranges: [
          [
            {
              subnet: 'fd00:80:19::/64',
              rangeStart: 'fd00:80:19::10',
              rangeEnd: 'fd00:80:19::20',
              gateway: 'fd00:80:19::fe',
            },
          ],
          [{ subnet: 'fd00:81:19::/64' }],
        ],
      }),
    }),
    ping: 'fd00:80:19::fe',
  },
  {
    name: 'ptp, IPv6 + static IPAM: the host end holds each gateway as a /128, routes both ways',
    plugin: () => ({
      type: 'ptp',
      mtu: 1400,
      ipam: {
        type: 'static',
        addresses: [
          { address: 'fd00:80:20::5/64', gateway: 'fd00:80:20::1' },
          { address: 'fd00:82:20::5/64', gateway: 'fd00:82:20::1' },
        ],
        routes: [
          { dst: '::/0', gw: 'fd00:80:20::1' },
          { dst: 'fd00:95::/48', gw: 'fd00:82:20::1' },
        ],
      },
    }),
    ping: 'fd00:80:20::1',
  },
  {
    name: 'macvlan, dual stack: bridge mode on the master, its MTU, an address and a route per family',
    plugin: (dir) => ({
      type: 'macvlan',
      master: 'up0',
      mode: 'bridge',
      ipam: hl(dir, {
        ranges: [[{ subnet: '10.80.6.0/24' }], [{ subnet: 'fd00:80:6::/64' }]],
        routes: [
          { dst: '10.91.0.0/16', gw: '10.80.6.254' },
          { dst: 'fd00:91::/48', gw: 'fd00:80:6::fe' },
        ],
      }),
    }),
  },
];

conformanceSuite('t-cnic6', CASES);
