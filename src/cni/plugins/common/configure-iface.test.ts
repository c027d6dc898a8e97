import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressLines, ifaceSysctls, routeLines, settled, waitsForDad } from './configure-iface';
import { forwardingSysctls } from './forwarding';

test('ifaceSysctls: DAD off or on (enhanced) only when the plugin says so, arp_notify when asked, in order', () => {
  assert.deepEqual(ifaceSysctls('eth0', {}), []);
  assert.deepEqual(ifaceSysctls('eth0', { dad: 'namespace', arpNotify: true }), [
    ['net/ipv4/conf/eth0/arp_notify', '1'],
  ]);
  assert.deepEqual(ifaceSysctls('eth0', { dad: 'off', arpNotify: true }), [
    ['net/ipv6/conf/eth0/accept_dad', '0'],
    ['net/ipv4/conf/eth0/arp_notify', '1'],
  ]);
  assert.deepEqual(ifaceSysctls('eth0.100', { dad: 'on' }), [
    ['net/ipv6/conf/eth0.100/enhanced_dad', '1'],
    ['net/ipv6/conf/eth0.100/accept_dad', '1'],
  ]);
});

test('waitsForDad: only when an IPv6 address has an IPv6 gateway, as the reference settles', () => {
  assert.equal(waitsForDad([{ address: '10.1.0.2/24', gateway: '10.1.0.1' }]), false);
  assert.equal(waitsForDad([{ address: 'fd00::2/64' }]), false);
  assert.equal(
    waitsForDad([
      { address: '10.1.0.2/24', gateway: '10.1.0.1' },
      { address: 'fd00::2/64', gateway: 'fd00::1' },
    ]),
    true,
  );
});

test('settled: no address tentative, none failed', () => {
  assert.equal(settled([]), true);
  assert.equal(settled([{}, { tentative: false }]), true);
  assert.equal(settled([{}, { tentative: true }]), false);
  assert.equal(settled([{ dadfailed: true }]), false);
});

test("addressLines: the addresses as given (no nodad: DAD is the sysctls' business), then the link up", () => {
  assert.deepEqual(addressLines('eth0', [{ address: '10.1.0.2/24' }, { address: 'fd00::2/64' }]), [
    ['addr', 'add', '10.1.0.2/24', 'dev', 'eth0'],
    ['addr', 'add', 'fd00::2/64', 'dev', 'eth0'],
    ['link', 'set', 'dev', 'eth0', 'up'],
  ]);
});

test('routeLines: a route without gw goes via the first gateway of its family, or none', () => {
  const ips = [
    { address: '10.1.0.2/24', gateway: '10.1.0.1' },
    { address: 'fd00::2/64', gateway: 'fd00::1' },
    { address: 'fd01::2/64', gateway: 'fd01::1' },
  ];
  assert.deepEqual(
    routeLines('eth0', ips, [{ dst: '0.0.0.0/0' }, { dst: '::/0' }, { dst: 'fd09::/48', gw: 'fd01::1', mtu: 1400 }]),
    [
      ['route', 'add', '0.0.0.0/0', 'via', '10.1.0.1', 'dev', 'eth0'],
      ['route', 'add', '::/0', 'via', 'fd00::1', 'dev', 'eth0'],
      ['route', 'add', 'fd09::/48', 'via', 'fd01::1', 'dev', 'eth0', 'mtu', '1400'],
    ],
  );
  assert.deepEqual(routeLines('eth0', [{ address: 'fd00::2/64' }], [{ dst: '::/0' }]), [
    ['route', 'add', '::/0', 'dev', 'eth0'],
  ]);
});

test('forwardingSysctls: one per family present', () => {
  assert.deepEqual(forwardingSysctls([]), []);
  assert.deepEqual(forwardingSysctls([{ address: '10.1.0.1/24' }]), [['net/ipv4/ip_forward', '1']]);
  assert.deepEqual(forwardingSysctls([{ address: 'fd00::1/64' }, { address: '10.1.0.1/24' }]), [
    ['net/ipv4/ip_forward', '1'],
    ['net/ipv6/conf/all/forwarding', '1'],
  ]);
});
