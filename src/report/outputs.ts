/**
 * Everything a run folder holds besides results.json: results.csv, charts/*.svg and *.png (for
 * papers and slides), and report.html. `cnilab run` writes them after measuring; `cnilab report`
 * writes them again from a results.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { CnilabError, messageOf } from '../lib/errors';
import { z } from 'zod';
import { architectures } from '../arch';
import { PATHS } from '../arch/vocabulary';
import { afterParts, allAfterTests } from '../run/after';
import { publishedResultsSchema } from '../run/results-published';
import { METRICS, RESULTS_SCHEMA_VERSION, rowSchema, statSchema, TESTS, type RunResults } from '../run/results-schema';
import { describe } from '../run/stats';
import { buildCharts, renderSvg, type Chart } from './charts';
import type { ComparableRun } from './compare';
import { toCsv } from './csv';
import { renderHtml } from './html';

export async function writeOutputs(r: RunResults, outDir: string): Promise<string[]> {
  mkdirSync(join(outDir, 'charts'), { recursive: true });
  writeFileSync(join(outDir, 'results.csv'), toCsv(r));
  const charts = [];
  const order = r.architectures.map((a) => a.name);
  const after = afterParts(r).flatMap(({ test, part }) => test.report.charts?.(part, order) ?? []);
  for (const chart of [...buildCharts(r), ...after] as Chart[]) {
    const svg = await renderSvg(chart.spec);
    writeFileSync(join(outDir, 'charts', `${chart.name}.svg`), svg);
    // Twice the size for print; the system's DejaVu Sans for text (installed by scripts/setup.sh).
    const png = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: 2 },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
      background: 'white',
    })
      .render()
      .asPng();
    writeFileSync(join(outDir, 'charts', `${chart.name}.png`), png);
    charts.push({ chart, svg });
  }
  writeFileSync(join(outDir, 'report.html'), renderHtml(r, charts));
  return ['results.csv', 'report.html', `charts/ (${charts.length} charts, SVG and PNG)`];
}

function readJson(where: string): { file: string; doc: unknown } {
  const file = where.endsWith('.json') ? where : join(where, 'results.json');
  try {
    return { file, doc: JSON.parse(readFileSync(file, 'utf8')) };
  } catch (e) {
    throw new CnilabError(
      'INVALID_INPUT',
      `${file}: ${messageOf(e).split('\n')[0]} — give a run folder or its results.json`,
    );
  }
}

function parseWith<T>(file: string, schema: z.ZodType<T>, doc: unknown): T {
  const p = schema.safeParse(doc);
  if (!p.success) {
    const i = p.error.issues[0]!;
    throw new CnilabError('INVALID_INPUT', `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  return p.data;
}

/**
 * A run folder's results.json (or the file itself), validated: version 8, or 7 (the same but for
 * its number: v8 added a path, a test and a field), or 6 to 3 (the same but for where the tests after the rounds are — their fields at the top, moved into `afterRounds` — and,
 * before v6, the verdicts `indistinguishable`, read as `not resolved`; their families are the ones
 * that run gave, flannel-host-gw and ipvlan-l3 still `native` before v5).
 */
export function readResults(where: string): RunResults {
  const { file, doc } = readJson(where);
  const version = (doc as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version === 3 || version === 4 || version === 5 || version === 6 || version === 7)
    return parseWith(
      file,
      publishedResultsSchema,
      upgradeMeters(upgradeAfterRounds(upgradeVerdicts({ ...(doc as object), schemaVersion: RESULTS_SCHEMA_VERSION }))),
    );
  if (version !== RESULTS_SCHEMA_VERSION)
    throw new CnilabError(
      'INVALID_INPUT',
      `${file}: schemaVersion ${JSON.stringify(version)} is not ${RESULTS_SCHEMA_VERSION}; the report reads ` +
        `results v3 to v${RESULTS_SCHEMA_VERSION} (re-run with cnilab run; cnilab compare reads v1 and v2 too)`,
    );
  return parseWith(file, publishedResultsSchema, doc);
}

/**
 * v4–v6 held a kind's counters in fields of their own, on rows and paths: the kind of the row's (the
 * path's) architecture names them (`legacyMeters`) and reads them as its meters.
 */
function upgradeMeters(doc: Record<string, unknown>): Record<string, unknown> {
  const move = <T extends Record<string, unknown>>(x: T, at: 'rowField' | 'pathField'): T => {
    const arch = String(x['arch']);
    const legacy = architectures.has(arch) ? architectures.get(arch).control.legacyMeters : undefined;
    const old = legacy ? (x[legacy[at]] as unknown[] | undefined) : undefined;
    if (legacy === undefined || old === undefined) return x;
    const { [legacy[at]]: _gone, ...rest } = x;
    return { ...rest, meters: [legacy.read(old)] } as unknown as T;
  };
  const rows = (doc['rows'] as Record<string, unknown>[] | undefined)?.map((r) => move(r, 'rowField'));
  const paths = (doc['paths'] as Record<string, unknown>[] | undefined)?.map((p) => move(p, 'pathField'));
  return { ...doc, ...(rows ? { rows } : {}), ...(paths ? { paths } : {}) };
}

/**
 * v3–v6 held each test after the rounds at the top (`attach`, `join`): each moves into `afterRounds`, upgraded by its
 * test.
 */
function upgradeAfterRounds(doc: Record<string, unknown>): Record<string, unknown> {
  const out = { ...doc };
  const after: Record<string, unknown> = {};
  for (const t of allAfterTests()) {
    const key = t.legacy?.key;
    if (key === undefined || out[key] === undefined) continue;
    after[t.name] = t.legacy?.upgrade ? t.legacy.upgrade(out[key]) : out[key];
    delete out[key];
  }
  return Object.keys(after).length ? { ...out, afterRounds: after } : out;
}

/**
 * v3–v5 said `indistinguishable` where v6 says `equivalent` or `not resolved`; they never tested
 * equivalence, so each such verdict reads as `not resolved`.
 */
function upgradeVerdicts<T extends Record<string, unknown>>(doc: T): T {
  const claims = (doc as { claims?: { rankings?: unknown[]; designs?: unknown[] } }).claims;
  const fix = (x: { verdict?: string }): void => {
    if (x.verdict === 'indistinguishable') x.verdict = 'not resolved';
  };
  const copy = structuredClone(claims);
  for (const g of (copy?.rankings ?? []) as { steps?: { verdict?: string }[] }[]) g.steps?.forEach(fix);
  for (const d of (copy?.designs ?? []) as { metrics?: { verdict?: string }[] }[]) d.metrics?.forEach(fix);
  return copy ? { ...doc, claims: copy } : doc;
}

/** What version 2 rows hold that a comparison needs (v2 had no rounds, no ratios). */
const v2Schema = z.object({
  schemaVersion: z.literal(2),
  lab: z.object({ underlayMtu: z.number().int() }).optional(),
  rows: z.array(
    z.object({
      arch: z.string(),
      path: z.enum(PATHS),
      test: z.enum(TESTS),
      params: rowSchema.shape.params,
      primary: z.enum(METRICS),
      metrics: z.partialRecord(z.enum(METRICS), statSchema),
    }),
  ),
});

/** What version 1 rows hold that a comparison needs: one TCP test, its samples in Gbit/s. */
const v1Schema = z.object({
  schemaVersion: z.literal(1),
  rows: z.array(
    z.object({
      arch: z.string(),
      path: z.enum(['intra-node', 'inter-node']),
      streams: z.number().int().positive(),
      gbps: z.object({ samples: z.array(z.number()).min(1) }),
    }),
  ),
});

/**
 * The rows `cnilab compare` needs, from results v5, v4, v3, v2 or v1: a v1 row becomes a `tcp` row whose
 * statistics are computed from its samples, as a later run would have; v3 brings its paired
 * ratios and its noise floor.
 */
export function readComparable(where: string): ComparableRun {
  const { file, doc } = readJson(where);
  const version = (doc as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version === 2) {
    const v2 = parseWith(file, v2Schema, doc);
    return { rows: v2.rows, ...(v2.lab ? { underlayMtu: v2.lab.underlayMtu } : {}) };
  }
  if (version !== 1) {
    const r = readResults(where);
    return {
      rows: r.rows,
      floorPct: r.noise.floorPct,
      ...(r.settings.equivalencePct !== undefined ? { equivalencePct: r.settings.equivalencePct } : {}),
      underlayMtu: r.lab.underlayMtu,
      ...(r.afterRounds ? { afterRounds: r.afterRounds } : {}),
    };
  }
  const v1 = parseWith(file, v1Schema, doc);
  return {
    rows: v1.rows.map((r) => ({
      arch: r.arch,
      path: r.path,
      test: 'tcp' as const,
      params: { streams: r.streams },
      primary: 'gbps' as const,
      metrics: { gbps: describe(r.gbps.samples) },
    })),
  };
}
