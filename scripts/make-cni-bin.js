#!/usr/bin/env node
// Writes one executable per cnilab CNI plugin into dist/cni-bin/, named by the plugin's type, so
// that the directory can be put on CNI_PATH in place of the reference plugins' directory.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pluginsDir = path.join(root, 'dist/src/cni/plugins');
const binDir = path.join(root, 'dist/cni-bin');
fs.rmSync(binDir, { recursive: true, force: true });
fs.mkdirSync(binDir, { recursive: true });
for (const name of fs.readdirSync(pluginsDir)) {
  const entry = path.join(pluginsDir, name, 'main.js');
  if (!fs.existsSync(entry)) continue;
  const file = path.join(binDir, name);
  fs.writeFileSync(file, `#!/usr/bin/env node\nrequire(${JSON.stringify(path.relative(binDir, entry).replace(/^(?!\.)/, './'))});\n`, { mode: 0o755 });
}
