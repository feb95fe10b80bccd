// The monthly report as files: its JSON, the dashboard's report page (web/dist/report.js and
// report.css, inlined with the JSON into one self-contained page), rendered by Chromium —
// Debian's chromium, headless — once to the DOM it draws (the HTML report: no script, the charts
// as images) and once to PDF from that HTML.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installedFile } from '../../project-root.ts';
import { ReportError } from './collect.ts';
import type { MonthlyReport } from './schema.ts';

/** Where Chromium is looked for when neither the caller nor PATCHLOOP_CHROMIUM names one. */
const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/** Time Chromium's page may take (scripts, charts) before its DOM is taken; and the whole run. */
const VIRTUAL_TIME_MS = 10_000;
const RUN_TIMEOUT_MS = 120_000;

export interface ReportFiles {
  pdf: string;
  html: string;
  json: string;
}

/** The Chromium to use: the one given, else PATCHLOOP_CHROMIUM, else the first installed. */
export function findChromium(given?: string): string {
  const wanted = given ?? process.env.PATCHLOOP_CHROMIUM;
  if (wanted) {
    if (!existsSync(wanted)) throw new ReportError(`Chromium not found at ${wanted}: the PDF report needs it`);
    return wanted;
  }
  const found = CHROMIUM_CANDIDATES.find((c) => existsSync(c));
  if (!found)
    throw new ReportError(
      `Chromium not found (looked for ${CHROMIUM_CANDIDATES.join(', ')}): the PDF report is printed by Chromium. ` +
        'Install it (Debian/Ubuntu: apt-get install chromium) or name it with --chromium / PATCHLOOP_CHROMIUM',
    );
  return found;
}

/** The report page's script and styles as built (scripts/build-web). */
async function reportAssets(webDir?: string): Promise<{ js: string; css: string }> {
  const read = async (name: string): Promise<string | null> => {
    if (webDir) return existsSync(join(webDir, name)) ? readFile(join(webDir, name), 'utf8') : null;
    return installedFile(`web/dist/${name}`)?.toString('utf8') ?? null;
  };
  const [js, css] = await Promise.all([read('report.js'), read('report.css')]);
  if (js === null || css === null)
    throw new ReportError('the dashboard is not built (web/dist/report.js, report.css missing): run scripts/build-web');
  return { js, css };
}

/** Text safe inside a <script> or <style> element (no end tag, no comment opener). */
function inert(text: string): string {
  return text.replace(/<(\/?)(script|style)/gi, '<\\u003c$1$2').replace(/<!--/g, '<\\u0021--');
}

/** The self-contained page: the report's JSON, the page's CSS and script, nothing loaded from elsewhere. */
export function reportPage(report: MonthlyReport, assets: { js: string; css: string }): string {
  const json = JSON.stringify(report).replace(/</g, '\\u003c');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    // The page needs no network: nothing but its own inline parts and images from data: URLs.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:" />`,
    `<title>patchloop report ${report.month}</title>`,
    `<style>${inert(assets.css)}</style>`,
    '</head>',
    '<body>',
    '<div id="report"></div>',
    `<script type="application/json" id="report-data">${json}</script>`,
    `<script type="module">${inert(assets.js)}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: RUN_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const last = stderr.trim().split('\n').slice(-3).join('\n');
        reject(new ReportError(`Chromium (${file}) failed: ${err.message.split('\n')[0]}${last ? `\n${last}` : ''}`));
      } else resolve(stdout);
    });
  });
}

function chromiumArgs(profile: string): string[] {
  return [
    '--headless',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--no-first-run',
    '--no-default-browser-check',
    `--user-data-dir=${profile}`,
    // Chromium refuses to run as root with its sandbox; the page is our own, with no network.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ];
}

/**
 * Writes `patchloop-report-MONTH.{json,html,pdf}` into `outDir` (each written whole, then
 * renamed into place). `webDir`: the built dashboard to take the page from (default: this
 * installation's); `chromium`: the browser (default: findChromium()).
 */
export async function renderReport(
  report: MonthlyReport,
  outDir: string,
  o: { webDir?: string; chromium?: string } = {},
): Promise<ReportFiles> {
  const chromium = findChromium(o.chromium);
  const assets = await reportAssets(o.webDir);
  await mkdir(outDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'patchloop-report-'));
  try {
    const page = join(work, 'page.html');
    await writeFile(page, reportPage(report, assets));
    const base = chromiumArgs(join(work, 'profile'));
    const dom = await run(chromium, [
      ...base,
      `--virtual-time-budget=${VIRTUAL_TIME_MS}`,
      '--dump-dom',
      pathToFileURL(page).href,
    ]);
    if (!/<html[^>]*data-ready="true"/.test(dom))
      throw new ReportError('the report page did not finish drawing in Chromium (no data-ready): is web/dist current?');
    // The drawn page without its script: charts are images now, the data is in the JSON file.
    const html = `<!doctype html>\n${dom.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '').trim()}\n`;
    const staticPage = join(work, 'report.html');
    await writeFile(staticPage, html);
    const pdf = join(work, 'report.pdf');
    await run(chromium, [...base, '--no-pdf-header-footer', `--print-to-pdf=${pdf}`, pathToFileURL(staticPage).href]);
    if (!existsSync(pdf)) throw new ReportError('Chromium wrote no PDF');

    const name = `patchloop-report-${report.month}`;
    const files: ReportFiles = {
      json: join(outDir, `${name}.json`),
      html: join(outDir, `${name}.html`),
      pdf: join(outDir, `${name}.pdf`),
    };
    await writeFile(join(work, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    for (const [from, to] of [
      ['report.json', files.json],
      ['report.html', files.html],
      ['report.pdf', files.pdf],
    ] as const) {
      const tmp = `${to}.tmp`;
      await writeFile(tmp, await readFile(join(work, from)));
      // The report speaks of the fleet's weaknesses: readable by its owner only.
      await chmod(tmp, 0o600);
      await rename(tmp, to);
    }
    return files;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
