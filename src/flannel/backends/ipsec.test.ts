import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newIpsecKeyText, parseXfrm, placeIpsecKey, readIpsecKey, staleLines, xfrmLines } from './ipsec';

const lease = (n: number) => ({
  node: `node${n}`,
  subnet: `10.244.${n}.0/24`,
  publicIp: `198.18.0.${n + 1}`,
  backendType: 'ipsec',
  backendData: {},
  expiresAt: '',
  updatedAt: '',
});
const KEY = { spi: 3, key: `0x${'ab'.repeat(20)}`, icvBits: 128 };

test('the key file: made 0600 once, read back, refused when others may read it or it is malformed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ipsec-'));
  try {
    const file = join(dir, 'ipsec.key');
    placeIpsecKey(file, () => newIpsecKeyText(7));
    const k = readIpsecKey(file);
    assert.equal(k.spi, 7);
    assert.match(k.key, /^0x[0-9a-f]{40}$/);
    placeIpsecKey(file, () => assert.fail('a placed key is kept'));
    chmodSync(file, 0o640);
    assert.throws(() => readIpsecKey(file), /ipsec\.key: mode 0640 lets others read the IPsec key; chmod 600 it/);
    writeFileSync(file, '3 cbc(aes) 0x00 128\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    assert.throws(() => readIpsecKey(file), /not "SPI rfc4106\(gcm\(aes\)\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('xfrmLines: the inbound state, per peer the outbound one, and out, in and fwd policies between the subnets', () => {
  const lines = xfrmLines(lease(1), [lease(2)], KEY).map((l) => l.slice(0, l[1] === 'state' ? 11 : 9).join(' '));
  assert.deepEqual(lines, [
    'xfrm state add src 0.0.0.0 dst 198.18.0.2 proto esp spi 0x3',
    'xfrm state add src 198.18.0.2 dst 198.18.0.3 proto esp spi 0x3',
    'xfrm policy update src 10.244.1.0/24 dst 10.244.2.0/24 dir out',
    'xfrm policy update src 10.244.2.0/24 dst 10.244.1.0/24 dir in',
    'xfrm policy update src 10.244.2.0/24 dst 10.244.1.0/24 dir fwd',
  ]);
  // A second peer: its outbound state has its own destination; no second inbound state (same SPI, same destination).
  const two = xfrmLines(lease(1), [lease(2), lease(3)], KEY).filter((l) => l[1] === 'state');
  assert.deepEqual(
    two.map((l) => `${l[4]}>${l[6]}`),
    ['0.0.0.0>198.18.0.2', '198.18.0.2>198.18.0.3', '198.18.0.2>198.18.0.4'],
  );
  const held = [{ src: '198.18.0.2', dst: '198.18.0.3' }];
  assert.deepEqual(
    xfrmLines(lease(1), [lease(2)], KEY, held)
      .filter((l) => l[1] === 'state')
      .map((l) => l[4]),
    ['0.0.0.0'],
  );
});

test('parseXfrm and staleLines: what a gone peer left is deleted, the wanted kept', () => {
  const states = parseXfrm(
    'src 0.0.0.0 dst 198.18.0.2\n\tproto esp spi 0x00000003 reqid 1 mode tunnel\n' +
      'src 198.18.0.2 dst 198.18.0.3\n\tproto esp spi 0x00000003 reqid 1 mode tunnel\n' +
      'src 198.18.0.2 dst 198.18.0.4\n\tproto esp spi 0x00000003 reqid 1 mode tunnel\n',
  );
  const policies = parseXfrm(
    'src 10.244.1.0/24 dst 10.244.2.0/24 \n\tdir out priority 0 ptype main \n\ttmpl src 198.18.0.2 dst 198.18.0.3\n' +
      'src 10.244.1.0/24 dst 10.244.3.0/24 \n\tdir out priority 0 ptype main \n\ttmpl src 198.18.0.2 dst 198.18.0.4\n',
  );
  assert.deepEqual(policies[1], { src: '10.244.1.0/24', dst: '10.244.3.0/24', dir: 'out' });
  assert.deepEqual(
    staleLines(states, policies, xfrmLines(lease(1), [lease(2)], KEY)).map((l) => l.join(' ')),
    [
      'xfrm state delete src 198.18.0.2 dst 198.18.0.4 proto esp spi 0x00000003',
      'xfrm policy delete src 10.244.1.0/24 dst 10.244.3.0/24 dir out',
    ],
  );
});
