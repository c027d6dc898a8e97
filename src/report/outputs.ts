/**
 * Everything a run folder holds besides results.json: results.csv, charts/*.svg and *.png (for
 * papers and slides), and report.html. `cnilab run` writes them after measuring; `cnilab report`
 * writes them again from a results.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { CnilabError, messageOf } from '../lib/errors';
import { resultsSchema, type RunResults } from '../run/results-schema';
import { buildCharts, renderSvg } from './charts';
import { toCsv } from './csv';
import { renderHtml } from './html';

export async function writeOutputs(r: RunResults, outDir: string): Promise<string[]> {
  mkdirSync(join(outDir, 'charts'), { recursive: true });
  writeFileSync(join(outDir, 'results.csv'), toCsv(r));
  const charts = [];
  for (const chart of buildCharts(r)) {
    const svg = await renderSvg(chart.spec);
    writeFileSync(join(outDir, 'charts', `${chart.name}.svg`), svg);
    // Twice the size for print; the system's DejaVu Sans for text (installed by scripts/setup.sh).
    const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: 'white' }).render().asPng();
    writeFileSync(join(outDir, 'charts', `${chart.name}.png`), png);
    charts.push({ chart, svg });
  }
  writeFileSync(join(outDir, 'report.html'), renderHtml(r, charts));
  return ['results.csv', 'report.html', `charts/ (${charts.length} charts, SVG and PNG)`];
}

/** A run folder's results.json (or the file itself), validated; v1 files are named as such. */
export function readResults(where: string): RunResults {
  const file = where.endsWith('.json') ? where : join(where, 'results.json');
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CnilabError('INVALID_INPUT', `${file}: ${messageOf(e).split('\n')[0]} — give a run folder or its results.json`);
  }
  const version = (doc as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== 2) throw new CnilabError('INVALID_INPUT', `${file}: schemaVersion ${JSON.stringify(version)} is not 2; this cnilab reads results v2 (re-run with cnilab run)`);
  const p = resultsSchema.safeParse(doc);
  if (!p.success) {
    const i = p.error.issues[0]!;
    throw new CnilabError('INVALID_INPUT', `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  return p.data;
}
