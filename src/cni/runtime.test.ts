import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfList, parseConfList } from './runtime';

test('a configuration list is validated field by field, naming the source', () => {
  const ok = parseConfList('{"cniVersion":"1.0.0","name":"n1","plugins":[{"type":"bridge","extra":1}]}', 'x.conflist');
  assert.deepEqual(ok.plugins, [{ type: 'bridge', extra: 1 }], 'unknown fields pass through');
  const bad: [string, RegExp][] = [
    ['{"cniVersion":', /^x\.conflist: not JSON/],
    ['[]', /^x\.conflist: \(top level\) must be an object$/],
    ['{"cniVersion":"1.0.0","name":"bad name","plugins":[{"type":"bridge"}]}', /^x\.conflist: name must be a network name/],
    ['{"cniVersion":"9.9","name":"n","plugins":[{"type":"bridge"}]}', /^x\.conflist: cniVersion must be one of 0\.3\.0, 0\.3\.1, 0\.4\.0, 1\.0\.0, 1\.1\.0$/],
    ['{"cniVersion":"1.0.0","name":"n","plugins":[]}', /^x\.conflist: plugins must be a non-empty array$/],
    ['{"cniVersion":"1.0.0","name":"n","plugins":[{"mtu":1}]}', /^x\.conflist: plugins\[0\]\.type is required$/],
  ];
  for (const [text, want] of bad) assert.throws(() => parseConfList(text, 'x.conflist'), (e: Error) => want.test(e.message));
});

test('a single .conf becomes a list of one; a missing file is named', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-conf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, '10-n.conf');
  writeFileSync(file, '{"cniVersion":"0.4.0","name":"n","type":"macvlan","master":"eth0"}');
  assert.deepEqual(loadConfList(file), { cniVersion: '0.4.0', name: 'n', type: 'macvlan', master: 'eth0', plugins: [{ type: 'macvlan', master: 'eth0' }] });
  assert.throws(() => loadConfList(join(dir, 'absent.conflist')), /absent\.conflist: cannot read/);
});
