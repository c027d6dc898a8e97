// The core never names a kind (docs/design.md, "Layers"): the import rule of .dependency-cruiser.cjs
// catches a planted violation, and no generic folder spells an architecture's or a kind's name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from '../lib/paths';
import { architectures } from '.';
import { FAMILIES } from './vocabulary';

/** The folders of src/ by role (layers.cjs, which the import rules read too). */
const { GENERIC } = createRequire(__filename)(join(REPO_ROOT, 'layers.cjs')) as { GENERIC: string[] };
const DEPCRUISE = join(REPO_ROOT, 'node_modules', '.bin', 'depcruise');

/** A tree shaped like src/, one file per entry (path → source), cruised with the project's rules. */
function cruise(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cnilab-dc-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    writeFileSync(join(dir, 'tsconfig.json'), '{"compilerOptions":{"module":"commonjs","strict":true}}');
    const config = join(REPO_ROOT, '.dependency-cruiser.cjs');
    try {
      return execFileSync(DEPCRUISE, ['src', '--config', config, '--output-type', 'err'], {
        cwd: dir,
        encoding: 'utf8',
      });
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? e);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the import rule refuses a generic folder importing a kind, and a kind importing another', () => {
  const out = cruise({
    'src/newkind/control-plane.ts': 'export const plane = 1;\n',
    'src/otherkind/agent.ts': "import { plane } from '../newkind/control-plane';\nexport const a = plane;\n",
    'src/run/engine.ts': "import { plane } from '../newkind/control-plane';\nexport const b = plane;\n",
    'src/arch/index.ts': "import { plane } from '../newkind/control-plane';\nexport const c = plane;\n",
    'src/newkind/uses-lib.ts': "import { d } from '../lib/tool';\nexport const e = d;\n",
    'src/lib/tool.ts': 'export const d = 1;\n',
  });
  assert.match(out, /generic-imports-no-kind: src\/run\/engine\.ts → src\/newkind\/control-plane\.ts/);
  assert.match(out, /kind-imports-no-other-kind: src\/otherkind\/agent\.ts → src\/newkind\/control-plane\.ts/);
  // The registry may import kinds, and a kind the toolbox.
  assert.doesNotMatch(out, /src\/arch\/index\.ts →/);
  assert.doesNotMatch(out, /src\/newkind\/uses-lib\.ts →/);
});

test('the import rule keeps the proxy modes apart, bar the declared ipvs-on-iptables', () => {
  const out = cruise({
    'src/proxy/mode.ts': 'export const m = 1;\n',
    'src/proxy/iptables/tables.ts': "import { m } from '../mode';\nexport const t = m;\n",
    'src/proxy/iptables/other.ts': 'export const o = 1;\n',
    'src/proxy/nftables/mode.ts': "import { t } from '../iptables/tables';\nexport const n = t;\n",
    'src/proxy/ipvs/mode.ts': "import { t } from '../iptables/tables';\nexport const i = t;\n",
    'src/proxy/ipvs/more.ts': "import { o } from '../iptables/other';\nexport const j = o;\n",
    'src/proxy/index.ts': "import { n } from './nftables/mode';\nexport const x = n;\n",
    'src/proxy/agent.ts': "import { k } from '../somekind/agent';\nexport const y = k;\n",
    'src/somekind/agent.ts': 'export const k = 1;\n',
  });
  assert.match(
    out,
    /proxy-mode-imports-no-other-mode: src\/proxy\/nftables\/mode\.ts → src\/proxy\/iptables\/tables\.ts/,
  );
  assert.match(out, /proxy-mode-imports-no-other-mode: src\/proxy\/ipvs\/more\.ts → src\/proxy\/iptables\/other\.ts/);
  assert.match(out, /proxy-imports-no-kind: src\/proxy\/agent\.ts → src\/somekind\/agent\.ts/);
  assert.doesNotMatch(out, /src\/proxy\/ipvs\/mode\.ts →/);
  assert.doesNotMatch(out, /src\/proxy\/index\.ts →/);
  assert.doesNotMatch(out, /src\/proxy\/iptables\/tables\.ts →/);
});

/** Every .ts file below `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/**
 * Architecture names that are also the kernel's or the network's own words — a link type
 * (`type bridge`, a hop through a bridge), a kernel feature the doctor probes, a host: the scan
 * cannot tell them apart, so it leaves them out; so are the families (the baseline kind's name is
 * also its family's). The baseline architecture's name is BASELINE_ARCH (arch/vocabulary.ts).
 */
const COMMON_WORDS = new Set<string>(['bridge', 'macvlan', 'ipvlan', 'host', ...FAMILIES]);

test('no generic folder names an architecture or a kind as a literal', () => {
  const names = new Set<string>();
  for (const n of architectures.names()) {
    names.add(n);
    names.add(architectures.get(n).control.kind);
  }
  const found: string[] = [];
  for (const folder of GENERIC) {
    for (const file of sources(join(REPO_ROOT, 'src', folder))) {
      if (file.endsWith('.test.ts')) continue;
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (/^\s*(\*|\/\/|\/\*)/.test(line)) return; // a comment may tell the history
        for (const m of line.matchAll(/['"`]([a-z0-9-]+)['"`]/g)) {
          const word = m[1]!;
          if (!names.has(word) || COMMON_WORDS.has(word)) continue;
          found.push(`${relative(REPO_ROOT, file)}:${i + 1}: '${word}'`);
        }
      });
    }
  }
  assert.deepEqual(found, [], `kind names belong in src/arch/index.ts or src/arch/claims.ts:\n${found.join('\n')}`);
});
