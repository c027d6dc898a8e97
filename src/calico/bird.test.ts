import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { birdConfig, parseProtocols } from './bird';

const BIRD = '/usr/sbin/bird';

const CONFIG = {
  routerId: '198.18.0.2',
  blocks: ['10.244.0.0/26', '10.244.0.128/26'],
  peers: [
    { name: 'node2', ip: '198.18.0.3' },
    { name: 'compute-node-3', ip: '198.18.0.4' },
  ],
};

const CONFIG6 = {
  routerId: '198.18.0.2',
  ip6: '2001:2::2',
  blocks: ['10.244.0.0/26', 'fd00:10:244::/122'],
  peers: [
    { name: 'node2', ip: '198.18.0.3', ip6: '2001:2::3' },
    { name: 'node3', ip: '198.18.0.4' },
  ],
};

const count = (text: string, needle: string): number => text.split(needle).length - 1;

test('birdConfig: router id, one blackhole per block, one mesh peer per node, the lab timers', () => {
  const conf = birdConfig(CONFIG);
  assert.match(conf, /^router id 198\.18\.0\.2;$/m);
  assert.match(conf, /^\s*local 198\.18\.0\.2 as 64512;$/m);
  for (const b of CONFIG.blocks) assert.equal(count(conf, `route ${b} blackhole;`), 1, b);
  assert.equal(count(conf, ' blackhole;'), 2);
  assert.equal(count(conf, 'protocol bgp peer_node2 from mesh { neighbor 198.18.0.3 as 64512; }'), 1);
  assert.equal(count(conf, 'protocol bgp peer_compute_node_3 from mesh { neighbor 198.18.0.4 as 64512; }'), 1);
  assert.equal(count(conf, 'protocol bgp '), 2);
  assert.match(conf, /^\s*connect delay time 0;$/m);
  assert.match(conf, /^\s*hold time 9;$/m);
  assert.match(conf, /^\s*keepalive time 3;$/m);
});

test('birdConfig: a node alone has no peers and an empty static protocol', () => {
  const conf = birdConfig({ routerId: '198.18.0.2', blocks: [], peers: [] });
  assert.equal(count(conf, 'blackhole'), 0);
  assert.equal(count(conf, 'protocol bgp '), 0);
  assert.match(conf, /protocol static blocks \{\n\s*ipv4;\n\n\}/);
});

test(
  'birdConfig: bird -p parses what it writes',
  { skip: existsSync(BIRD) ? false : `${BIRD} is not installed` },
  (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cnilab-bird-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [name, o] of [
      ['mesh', CONFIG],
      ['alone', { routerId: '198.18.0.2', blocks: [], peers: [] }],
      ['ipip', { ...CONFIG, tunnel: 'tunl0' }],
      ['dual-stack', CONFIG6],
    ] as const) {
      const file = join(dir, `${name}.conf`);
      writeFileSync(file, birdConfig(o));
      // Throws (with bird's message on stderr) when bird exits non-zero.
      execFileSync(BIRD, ['-p', '-c', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    }
  },
);

test('birdConfig: in ipip mode the learnt routes go to the kernel via the peer on the tunnel device, onlink; otherwise as learnt', () => {
  assert.match(
    birdConfig({ ...CONFIG, tunnel: 'tunl0' }),
    /export filter \{ if source != RTS_BGP then reject; onlink = true; ifname = "tunl0"; gw = bgp_next_hop; accept; \};/,
  );
  assert.match(birdConfig(CONFIG), /ipv4 \{ import none; export where source = RTS_BGP; \};/);
});

const SHOW_PROTOCOLS = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     02:16:37.831  
kernel1    Kernel     master4    up     02:16:37.831  
blocks     Static     master4    up     02:16:37.831  
peer_node2 BGP        ---        up     02:16:38.621  Established   
peer_node3 BGP        ---        start  02:16:38.622  Connect       Socket: Connection refused
`;

test('parseProtocols: the BGP sessions of `show protocols`, with state, since and info', () => {
  const sessions = parseProtocols(SHOW_PROTOCOLS);
  assert.equal(sessions.length, 2);
  assert.deepEqual(sessions[0], { protocol: 'peer_node2', state: 'up', since: '02:16:38.621', info: 'Established' });
  const second = sessions[1]!;
  assert.equal(second.protocol, 'peer_node3');
  assert.equal(second.state, 'start');
  assert.equal(second.since, '02:16:38.622');
  assert.match(second.info, /^Connect\b/);
});

test('parseProtocols: no BGP protocol, no sessions', () => {
  assert.deepEqual(parseProtocols('BIRD 2.0.12 ready.\nName Proto Table State Since Info\n'), []);
  assert.deepEqual(parseProtocols(''), []);
});

test('birdConfig: IPv6 blocks go over an ipv6 mesh on the IPv6 underlay, one session per peer with an IPv6 address', () => {
  const conf = birdConfig(CONFIG6);
  assert.match(conf, /^router id 198\.18\.0\.2;$/m);
  assert.match(conf, /protocol static blocks \{\n\s*ipv4;\n\s*route 10\.244\.0\.0\/26 blackhole;\n\}/);
  assert.match(conf, /protocol static blocks6 \{\n\s*ipv6;\n\s*route fd00:10:244::\/122 blackhole;\n\}/);
  assert.match(conf, /^\s*local 2001:2::2 as 64512;$/m);
  assert.match(conf, /ipv6 \{ import all; export where proto = "blocks6"; next hop self; \};/);
  assert.equal(count(conf, 'protocol bgp peer6_node2 from mesh6 { neighbor 2001:2::3 as 64512; }'), 1);
  assert.equal(count(conf, 'protocol bgp peer6_'), 1);
  assert.equal(count(conf, 'protocol bgp peer_'), 2);
  // Without the node's own IPv6 address, no IPv6 half.
  assert.equal(count(birdConfig(CONFIG), 'ipv6'), 0);
});
