#!/usr/bin/env node
// Compiles the eBPF objects with clang, for bpftool to load: the data path (src/ebpf/bpf/datapath.c)
// into dist/bpf/datapath.o, for the node agents, and the Service proxy (src/proxy/ebpf/bpf/service.c)
// into dist/bpf/service.o, for the proxy modes ebpf and ebpf-sock. Without clang, or when it fails,
// the build goes on: the object is missing, its report (dist/bpf/build.json, dist/bpf/service.json)
// says why, and what needs it skips with that reason (cnilab doctor: feature `ebpf`).
// scripts/setup.sh installs clang, llvm and libbpf-dev.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, 'dist/bpf');
/** Each object: its source, and the report file that says how its build went. */
const OBJECTS = [
  { source: 'src/ebpf/bpf/datapath.c', object: 'datapath.o', report: 'build.json', users: 'the ebpf architectures' },
  {
    source: 'src/proxy/ebpf/bpf/service.c',
    object: 'service.o',
    report: 'service.json',
    users: 'the ebpf proxy modes',
  },
];
fs.mkdirSync(outDir, { recursive: true });

/** The folder of the kernel's asm/ headers for this machine (Debian's multiarch layout), if any. */
function asmInclude() {
  const triple = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch];
  const dir = triple && `/usr/include/${triple}`;
  return dir && fs.existsSync(path.join(dir, 'asm')) ? ['-I', dir] : [];
}

function build(source, object) {
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

for (const o of OBJECTS) {
  const object = path.join(outDir, o.object);
  fs.rmSync(object, { force: true });
  const result = build(path.join(root, o.source), object);
  fs.writeFileSync(path.join(outDir, o.report), JSON.stringify(result, null, 2));
  if (!result.ok) console.error(`build-bpf: ${result.reason}; ${o.users} will skip`);
}
