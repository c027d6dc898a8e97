#!/usr/bin/env node
// Writes one executable per cnilab CNI plugin into dist/cni-bin/, named by the plugin's type, so
// that the directory can be put on CNI_PATH in place of the reference plugins' directory.
//
// Each executable is its plugin bundled into one file (esbuild): a plugin starts once per CNI call,
// so it loads one script and nothing it does not use. It runs under Bun when the npm package
// @oven/bun-linux-x64 is installed (scripts/setup.sh installs it): Bun starts in ~6 ms where Node
// takes ~70 (bench/cni.ts has the comparison). The shebang names Bun by its absolute path, so a
// runtime calling the plugin with any PATH finds it. Without Bun (another CPU, or
// CNILAB_PLUGIN_RUNTIME=node) the plugins run under Node; that shebang drops NODE_EXTRA_CA_CERTS,
// which only adds TLS roots (no plugin speaks TLS) and costs Node.js ~90 ms at every start when set.
// dist/cni-bin/.runtime.json says which runtime was chosen (cnilab doctor reports it).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const pluginsDir = path.join(root, 'dist/src/cni/plugins');
const binDir = path.join(root, 'dist/cni-bin');

/** Bun from node_modules, with its version, or undefined (not installed, or it does not run here). */
function findBun() {
  if (process.env.CNILAB_PLUGIN_RUNTIME === 'node') return undefined;
  let bin;
  try {
    bin = path.join(path.dirname(require.resolve('@oven/bun-linux-x64/package.json', { paths: [root] })), 'bin/bun');
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8', env: {} }).trim();
    return { bin, version };
  } catch (e) {
    if (process.env.CNILAB_PLUGIN_RUNTIME === 'bun')
      throw new Error(
        `CNILAB_PLUGIN_RUNTIME=bun, but Bun cannot run (${bin ?? '@oven/bun-linux-x64 not installed'}): ${e.message}; run scripts/setup.sh`,
        { cause: e },
      );
    return undefined;
  }
}

const bun = findBun();
// Linux reads at most 255 bytes of a shebang line
if (bun && bun.bin.length > 250) throw new Error(`the path to Bun is too long for a shebang: ${bun.bin}`);
const SHEBANG = bun ? `#!${bun.bin}` : '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node';
const runtime = bun
  ? { runtime: 'bun', version: bun.version, path: bun.bin }
  : { runtime: 'node', version: process.versions.node, path: 'node (on PATH)' };

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
    external: ['bun:ffi', 'koffi'],
    // where a plugin under Node finds koffi (netlink's FFI) when it has been copied out of the checkout
    define: { CNILAB_NODE_MODULES: JSON.stringify(path.join(root, 'node_modules')) },
    logLevel: 'error',
  }),
);
Promise.all(results).then(
  () => {
    for (const name of entries) fs.chmodSync(path.join(binDir, name), 0o755);
    fs.writeFileSync(path.join(binDir, '.runtime.json'), JSON.stringify(runtime) + '\n');
  },
  (e) => {
    console.error(`make-cni-bin: ${e.message}`);
    process.exit(1);
  },
);
