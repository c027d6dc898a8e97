#!/usr/bin/env node
// Writes one executable per cnilab CNI plugin into dist/cni-bin/, named by the plugin's type, so
// that the directory can be put on CNI_PATH in place of the reference plugins' directory.
//
// Each executable is its plugin bundled into one file (esbuild): a plugin starts once per CNI call,
// so it loads one script and nothing it does not use. The shebang drops NODE_EXTRA_CA_CERTS, which
// only adds TLS roots (no plugin speaks TLS) and costs Node.js ~90 ms at every start when set.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const pluginsDir = path.join(root, 'dist/src/cni/plugins');
const binDir = path.join(root, 'dist/cni-bin');
const SHEBANG = '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node';

fs.rmSync(binDir, { recursive: true, force: true });
fs.mkdirSync(binDir, { recursive: true });
const entries = fs.readdirSync(pluginsDir).filter((name) => fs.existsSync(path.join(pluginsDir, name, 'main.js')));
const results = entries.map((name) =>
  esbuild.build({
    entryPoints: [path.join(pluginsDir, name, 'main.js')],
    outfile: path.join(binDir, name),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minifySyntax: true,
    legalComments: 'none',
    banner: { js: SHEBANG },
    logLevel: 'error',
  }),
);
Promise.all(results).then(
  () => {
    for (const name of entries) fs.chmodSync(path.join(binDir, name), 0o755);
  },
  (e) => {
    console.error(`make-cni-bin: ${e.message}`);
    process.exit(1);
  },
);
