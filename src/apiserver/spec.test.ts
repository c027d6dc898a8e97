import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyLabelChanges, parsePorts, parseSelector } from './spec';

test('ports: [name=]port[:targetPort][/tcp|udp], repeated or comma lists; refusals name the flag', () => {
  assert.deepEqual(parsePorts(['80', 'dns=53:5353/udp,x=443/TCP']), [
    { name: '', port: 80, targetPort: 80, protocol: 'tcp' },
    { name: 'dns', port: 53, targetPort: 5353, protocol: 'udp' },
    { name: 'x', port: 443, targetPort: 443, protocol: 'tcp' },
  ]);
  for (const bad of ['0', '70000', '80:0', '80/sctp', 'http', '80,', 'A=80'])
    assert.throws(() => parsePorts([bad]), { code: 'INVALID_INPUT', message: /^--port: / }, bad);
});

test('selectors and label changes, kubectl-like', () => {
  assert.deepEqual(parseSelector('app=web,tier=fe'), { app: 'web', tier: 'fe' });
  assert.throws(() => parseSelector('app'), { message: /^--selector: "app" is not KEY=VALUE/ });
  assert.throws(() => parseSelector('a=1,a=2'), { message: /^--selector: a is given twice/ });
  const cur = { app: 'web', 'cnilab.io/pod': 'p1' };
  assert.deepEqual(applyLabelChanges(cur, ['tier=fe', 'app-'], false), { 'cnilab.io/pod': 'p1', tier: 'fe' });
  assert.deepEqual(applyLabelChanges(cur, ['app=web'], false), cur, 'the same value needs no --overwrite');
  assert.throws(() => applyLabelChanges(cur, ['app=db'], false), { message: /^app: already web; give --overwrite/ });
  assert.deepEqual(applyLabelChanges(cur, ['app=db'], true), { ...cur, app: 'db' });
  assert.throws(() => applyLabelChanges(cur, ['cnilab.io/pod-'], true), { message: /pod's own label/ });
  assert.throws(() => applyLabelChanges(cur, ['bad key=1'], true), { message: /is not a label key/ });
  assert.throws(() => applyLabelChanges(cur, [], true), { code: 'INVALID_INPUT' });
});
