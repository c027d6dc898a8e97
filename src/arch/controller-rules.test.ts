// docs/controller.md's table of who may call each route is the services' rules, row for row: a
// service that adds a route adds its rule, and the docs' table follows (issue 31).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialStore } from '../controller/auth/credentials';
import { ruleRows } from '../controller/auth/rules';
import { mountCredentials } from '../controller/auth/service';
import { REPO_ROOT } from '../lib/paths';
import { mountIpam } from '../calico/ipam/service';
import { IpamStore } from '../calico/ipam/store';
import { LeaseStore } from '../flannel/subnet/lease-store';
import { mountLeases } from '../flannel/subnet/service';
import { mountNeutron } from '../kuryr/neutron/service';
import { mountApi } from '../apiserver/service';
import { ApiStore } from '../apiserver/store';
import { NeutronStore } from '../kuryr/neutron/store';

test('docs/controller.md lists every route rule of every controller service, as declared', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-rules-doc-'));
  const mounted = [
    mountLeases(
      new LeaseStore(join(dir, 'leases.db'), {
        network: '10.244.0.0/16',
        subnetLength: 24,
        backend: { type: 'vxlan' },
      }),
    ),
    mountNeutron(new NeutronStore(join(dir, 'neutron.db'))),
    mountIpam(new IpamStore(join(dir, 'ipam.db'), { pool: '10.244.0.0/16', blockSize: 26, mode: 'bgp' })),
    mountApi(new ApiStore(join(dir, 'api.db'), { serviceCidr: '10.96.0.0/16', clusterCidr: '10.244.0.0/16' })),
    mountCredentials(new CredentialStore(join(dir, 'credentials.db'))),
  ];
  t.after(() => {
    for (const m of mounted) m.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'controller.md'), 'utf8');
  const table = doc.split('\n').filter((l) => /^\| `(GET|PUT|POST|DELETE) /.test(l));
  assert.deepEqual(table, ruleRows(mounted), 'docs/controller.md: write the table again from ruleRows');
});
