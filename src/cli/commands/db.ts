// `patchloop db update` and `patchloop db status`: fetch or import feeds into the local
// vulnerability DB (src/feeds/update.ts does the work; this prints its results), and show what
// it holds. Feed, download and database modules are imported only when a subcommand runs.
import { Option, type Command } from 'commander';
import { PatchloopError } from '../../core/errors.ts';
// The registry names the feeds and loads none of them.
import { FEED_NAMES } from '../../feeds/registry.ts';
import { counted } from '../../core/plural.ts';

interface UpdateOptions {
  source?: string[];
  from?: string[];
  dataDir?: string;
}

interface StatusOptions {
  dataDir?: string;
  format: 'json' | 'table';
}

const DATA_DIR_HELP =
  'data directory (default: $PATCHLOOP_HOME, else /var/lib/patchloop as root, else ~/.local/share/patchloop)';
/** Warnings printed per feed; the rest are counted. */
const WARNINGS_SHOWN = 20;

export function register(program: Command): void {
  const db = program.command('db').description('Manage the local vulnerability database (feeds, status)');

  db.command('update')
    .description('Fetch or import feeds into the local vulnerability database')
    .option(
      '--source <name...>',
      `feed(s) to update: ${FEED_NAMES.join(', ')} (default: the feeds already in the database)`,
    )
    .option(
      '--from <input...>',
      "file, directory or URL to import instead of the feed's default downloads (repeatable; with one --source)",
    )
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .addHelpText(
      'after',
      `
Each feed is replaced as a whole, atomically: a failed or corrupt update keeps the previous
database of that feed, and other feeds are left as they are. Downloads are cached under
<data-dir>/cache/<feed>/ and revalidated (ETag / Last-Modified); when every input is
unchanged the feed is reported "up to date" and not rebuilt.
Exit status: 0 when every feed was updated or up to date; 1 when any update failed (the
others are still attempted); 2 for a usage error.`,
    )
    .action(async (opts: UpdateOptions) => {
      await runUpdate(opts);
    });

  db.command('status')
    .description('List the feeds in the local vulnerability database, with their age and size')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'table']).default('table'))
    .action(async (opts: StatusOptions) => {
      await runStatus(opts);
    });
}

async function dataDirOf(opts: { dataDir?: string }): Promise<string> {
  if (opts.dataDir) return opts.dataDir;
  const { defaultDataDir } = await import('../../vulndb/paths.ts');
  return defaultDataDir();
}

/** Feeds with a file in the DB directory, known to the registry or not. */
async function feedsOnDisk(dataDir: string): Promise<string[]> {
  const { existsSync, readdirSync } = await import('node:fs');
  const { vulnDbDir } = await import('../../vulndb/paths.ts');
  const dir = vulnDbDir(dataDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sqlite'))
    .map((f) => f.slice(0, -'.sqlite'.length))
    .sort();
}

async function runUpdate(opts: UpdateOptions): Promise<void> {
  const { updateFeed } = await import('../../feeds/update.ts');
  const dataDir = await dataDirOf(opts);
  let sources = opts.source ? [...new Set(opts.source)] : [];
  const unknown = sources.filter((s) => !FEED_NAMES.includes(s));
  if (unknown.length)
    throw new PatchloopError(
      'PL_E_USAGE',
      `db update: unknown feed source ${unknown.map((u) => `"${u}"`).join(', ')} (known: ${FEED_NAMES.join(', ')})`,
    );
  if (opts.from && sources.length !== 1) {
    throw new PatchloopError(
      'PL_E_USAGE',
      'db update: --from needs exactly one --source (the feed its inputs are for)',
    );
  }
  if (sources.length === 0) {
    sources = (await feedsOnDisk(dataDir)).filter((f) => FEED_NAMES.includes(f));
    if (sources.length === 0) {
      throw new PatchloopError(
        'PL_E_USAGE',
        `db update: the vulnerability database in ${dataDir} has no feeds yet; name the feeds to fetch with --source (${FEED_NAMES.join(', ')})`,
      );
    }
  }

  const { terminalProgress } = await import('../terminal/progress.ts');
  const { showFeedProgress } = await import('../terminal/feed-progress.ts');
  const progress = terminalProgress();
  const failed: string[] = [];
  for (const name of sources) {
    let warningsShown = 0;
    const result = await updateFeed(name, {
      dataDir,
      from: opts.from,
      onEvent: (e) => {
        if (e.kind === 'warning' && warningsShown++ >= WARNINGS_SHOWN) return;
        progress.print(`patchloop: ${name}: ${e.kind === 'warning' ? 'warning: ' : ''}${e.message}`);
      },
      onProgress: showFeedProgress(progress, name),
    });
    progress.clear();
    if (result.warning_count > WARNINGS_SHOWN)
      process.stderr.write(
        `patchloop: ${name}: … and ${counted(result.warning_count - WARNINGS_SHOWN, 'more warning')}\n`,
      );
    if (result.status === 'failed') {
      failed.push(name);
      process.stderr.write(`patchloop: update of feed ${name} failed, ${result.message}\n`);
    } else {
      process.stdout.write(`${name}: ${result.message}\n`);
    }
  }
  if (failed.length)
    throw new PatchloopError(
      'PL_E_FAILED',
      `db update: ${failed.length} of ${counted(sources.length, 'feed update')} failed (${failed.join(', ')})`,
    );
}

interface StatusRow {
  feed: string;
  file: string;
  updated_at: string | null;
  age_seconds: number | null;
  entries: number | null;
  distros: string[];
  /** The database file's size, in bytes. */
  size_bytes: number | null;
  /** The URLs or files it was built from (`--from`, else the feed's default downloads). */
  source: string | null;
  /** What the publisher says the data is of: KEV's catalogue version, EPSS's score date (other feeds: absent). */
  data_version?: string;
  /** The last update that failed since the last good one (the database shown was kept). */
  last_failure: { at: string; message: string } | null;
  /** The database cannot be read. */
  error?: string;
}

async function runStatus(opts: StatusOptions): Promise<void> {
  const { VulnDb } = await import('../../vulndb/reader.ts');
  const { feedFile, vulnDbDir } = await import('../../vulndb/paths.ts');
  const { lastFailure } = await import('../../feeds/last-failure.ts');
  const { existsSync, statSync } = await import('node:fs');
  const dataDir = await dataDirOf(opts);
  const now = Date.now();
  const rows: StatusRow[] = [];
  // Feeds with a database, and feeds whose every update so far failed.
  const onDisk = await feedsOnDisk(dataDir);
  const neverUpdated = FEED_NAMES.filter((f) => !onDisk.includes(f) && lastFailure(dataDir, f));
  for (const feed of [...onDisk, ...neverUpdated].sort()) {
    const file = feedFile(dataDir, feed);
    const common = {
      feed,
      file,
      size_bytes: existsSync(file) ? statSync(file).size : null,
      last_failure: lastFailure(dataDir, feed),
    };
    if (!existsSync(file)) {
      rows.push({ ...common, updated_at: null, age_seconds: null, entries: null, distros: [], source: null });
      continue;
    }
    try {
      const db = VulnDb.open(dataDir, [feed]);
      const info = db.feeds()[0];
      db.close();
      const updated = Date.parse(info.updated_at);
      rows.push({
        ...common,
        updated_at: info.updated_at,
        age_seconds: Number.isNaN(updated) ? null : Math.max(0, Math.round((now - updated) / 1000)),
        entries: info.entry_count,
        distros: info.distros,
        source: info.meta.source ?? null,
        ...(info.meta.catalog_version || info.meta.score_date
          ? { data_version: info.meta.catalog_version ?? info.meta.score_date }
          : {}),
      });
    } catch (err) {
      rows.push({
        ...common,
        updated_at: null,
        age_seconds: null,
        entries: null,
        distros: [],
        source: null,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify({ data_dir: dataDir, feeds: rows }, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write(`No feeds in ${vulnDbDir(dataDir)}; fetch some with: patchloop db update --source NAME\n`);
    return;
  }
  const { formatBytes } = await import('../terminal/bytes.ts');
  const table = [
    ['FEED', 'UPDATED', 'AGE', 'ENTRIES', 'SIZE', 'DISTROS', 'SOURCE'],
    ...rows.map((r) => {
      const size = r.size_bytes === null ? '-' : formatBytes(r.size_bytes);
      if (r.error) return [r.feed, '-', '-', '-', size, '-', `unreadable: ${r.error}`];
      if (r.updated_at === null) return [r.feed, 'never', '-', '-', '-', '-', '-'];
      return [
        r.feed,
        r.updated_at,
        age(r.age_seconds),
        (r.entries ?? 0).toLocaleString('en-US'),
        size,
        r.distros.join(',') || '-',
        r.source ?? '-',
      ];
    }),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const lines = table.map((row) =>
    row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '),
  );
  const failed = rows.filter((r) => r.last_failure);
  if (failed.length) lines.push('', `Last failed ${failed.length === 1 ? 'update' : 'updates'}:`);
  for (const r of failed) {
    const f = r.last_failure!;
    const kept = r.updated_at === null ? 'no database yet' : 'the database above was kept';
    lines.push(`  ${r.feed}: ${f.at} (${age(Math.round((now - Date.parse(f.at)) / 1000))} ago, ${kept}): ${f.message}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function age(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h`;
  return counted(Math.round(seconds / 86400), 'day');
}
