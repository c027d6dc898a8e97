#!/usr/bin/env node
// Compiles the eBPF data path (src/ebpf/bpf/datapath.c) into dist/bpf/datapath.o with clang, for
// the node agents to load (bpftool). Without clang, or when it fails, the build goes on: the
// object is missing, dist/bpf/build.json says why, and the ebpf architectures skip with that
// reason (cnilab doctor: feature `ebpf`). scripts/setup.sh installs clang, llvm and libbpf-dev.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const source = path.join(root, 'src/ebpf/bpf/datapath.c');
const outDir = path.join(root, 'dist/bpf');
const object = path.join(outDir, 'datapath.o');
fs.mkdirSync(outDir, { recursive: true });

/** The folder of the kernel's asm/ headers for this machine (Debian's multiarch layout), if any. */
function asmInclude() {
  const triple = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch];
  const dir = triple && `/usr/include/${triple}`;
  return dir && fs.existsSync(path.join(dir, 'asm')) ? ['-I', dir] : [];
}

function build() {
  let version;
  try {
    version = execFileSync('clang', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    return {
      ok: false,
      reason: 'clang is not installed (run scripts/setup.sh: it installs clang, llvm and libbpf-dev)',
    };
  }
  if (!fs.existsSync('/usr/include/bpf/bpf_helpers.h'))
    return { ok: false, clang: version, reason: 'libbpf-dev is not installed (run scripts/setup.sh)' };
  try {
    execFileSync(
      'clang',
      ['-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', ...asmInclude(), '-c', source, '-o', object],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (e) {
    const first =
      String(e.stderr || e.message)
        .split('\n')
        .find((l) => /error/.test(l)) ?? String(e.message);
    return { ok: false, clang: version, reason: `clang failed on ${path.relative(root, source)}: ${first.trim()}` };
  }
  return { ok: true, clang: version, object: path.relative(root, object) };
}

fs.rmSync(object, { force: true });
const result = build();
fs.writeFileSync(path.join(outDir, 'build.json'), JSON.stringify(result, null, 2));
if (!result.ok) console.error(`build-bpf: ${result.reason}; the ebpf architectures will skip`);
