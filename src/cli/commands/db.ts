// `patchloop db update` and `patchloop db status`: fetch or import feeds into the local
// vulnerability DB, and show what it holds. Feed, download and database modules are imported
// only when a subcommand runs.
import { Option, type Command } from 'commander';
import type { FeedSource } from '../../feeds/registry.ts';
import type { FeedSummary } from '../../vulndb/writer.ts';
import type { FeedInfo } from '../../vulndb/reader.ts';
import { CliError, EXIT } from '../exit.ts';

interface UpdateOptions {
  source?: string[];
  from?: string[];
  dataDir?: string;
}

interface StatusOptions {
  dataDir?: string;
  format: 'json' | 'table';
}

const DATA_DIR_HELP = 'data directory (default: $PATCHLOOP_HOME, else /var/lib/patchloop as root, else ~/.local/share/patchloop)';
/** Warnings printed per feed; the rest are counted. */
const WARNINGS_SHOWN = 20;

export function register(program: Command): void {
  const db = program.command('db').description('Manage the local vulnerability database (feeds, status)');

  db.command('update')
    .description('Fetch or import feeds into the local vulnerability database')
    .option('--source <name...>', 'feed(s) to update: debian, ubuntu, alpine, almalinux, rocky, redhat, osv (default: the feeds already in the database)')
    .option('--from <input...>', "file, directory or URL to import instead of the feed's default downloads (repeatable; with one --source)")
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

/** The feed's current DB metadata, or null when it has none (or it cannot be read). */
async function currentFeedInfo(dataDir: string, feed: string): Promise<FeedInfo | null> {
  const { VulnDb } = await import('../../vulndb/reader.ts');
  try {
    const db = VulnDb.open(dataDir, [feed]);
    try {
      return db.feeds()[0] ?? null;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

async function runUpdate(opts: UpdateOptions): Promise<void> {
  const { FEED_NAMES, loadFeed } = await import('../../feeds/registry.ts');
  const dataDir = await dataDirOf(opts);
  let sources = opts.source ? [...new Set(opts.source)] : [];
  const unknown = sources.filter((s) => !FEED_NAMES.includes(s));
  if (unknown.length) throw new CliError(`db update: unknown feed source ${unknown.map((u) => `"${u}"`).join(', ')} (known: ${FEED_NAMES.join(', ')})`, EXIT.usage);
  if (opts.from && sources.length !== 1) {
    throw new CliError('db update: --from needs exactly one --source (the feed its inputs are for)', EXIT.usage);
  }
  if (sources.length === 0) {
    sources = (await feedsOnDisk(dataDir)).filter((f) => FEED_NAMES.includes(f));
    if (sources.length === 0) {
      throw new CliError(`db update: the vulnerability database in ${dataDir} has no feeds yet; name the feeds to fetch with --source (${FEED_NAMES.join(', ')})`, EXIT.usage);
    }
  }

  const failed: string[] = [];
  for (const name of sources) {
    try {
      await updateOne(await loadFeed(name), dataDir, opts.from);
    } catch (err) {
      failed.push(name);
      const previous = await currentFeedInfo(dataDir, name);
      const kept = previous ? `previous database kept (updated ${previous.updated_at})` : 'there was no previous database of it';
      process.stderr.write(`patchloop: update of feed ${name} failed, ${kept}: ${reason(err)}\n`);
    }
  }
  if (failed.length) throw new CliError(`db update: ${failed.length} of ${sources.length} feed update(s) failed (${failed.join(', ')})`, EXIT.failure);
}

/** The message of an error, without the writer's own "update of feed … failed" prefix. */
function reason(err: unknown): string {
  if (err instanceof Error && err.name === 'FeedUpdateError' && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

interface ResolvedInput {
  /** What was asked for: a URL or a local path. */
  spec: string;
  path: string;
  /** For downloads: the server's (or file's) version identity. */
  download?: { notModified: boolean; etag: string | null; lastModified: string | null };
}

/**
 * Updates one feed holding its lock from the first download to the swap: two updates of a
 * feed never share the cache or the temporary files, and the one that takes the lock removes
 * what an interrupted update left behind.
 */
async function updateOne(feed: FeedSource, dataDir: string, from: string[] | undefined): Promise<void> {
  const { withFeedLock } = await import('../../vulndb/writer.ts');
  const leftovers = (files: string[]): void => {
    process.stderr.write(`patchloop: ${feed.name}: removed ${files.length} file(s) left by an interrupted update: ${files.join(', ')}\n`);
  };
  await withFeedLock(dataDir, feed.name, () => updateLocked(feed, dataDir, from), leftovers);
}

async function updateLocked(feed: FeedSource, dataDir: string, from: string[] | undefined): Promise<void> {
  const { join, resolve } = await import('node:path');
  const { existsSync } = await import('node:fs');
  const { feedFile } = await import('../../vulndb/paths.ts');
  const { download, DownloadError } = await import('../../feeds/download.ts');
  const { replaceFeed } = await import('../../vulndb/writer.ts');
  const started = performance.now();
  const specs = from ?? feed.defaultUrls;
  if (specs.length === 0) throw new Error(`the ${feed.name} feed has no default download location; give its input with --from`);

  const cacheDir = join(dataDir, 'cache', feed.name);
  const inputs: ResolvedInput[] = [];
  for (const spec of specs) {
    if (!/^(?:https?|file):/i.test(spec)) {
      inputs.push({ spec, path: resolve(spec) });
      continue;
    }
    try {
      const got = await download(spec, cacheDir, {
        onRetry: (r) => process.stderr.write(`patchloop: ${feed.name}: ${r.reason}; retrying in ${(r.delayMs / 1000).toFixed(1)} s\n`),
      });
      inputs.push({ spec, path: got.path, download: { notModified: got.notModified, etag: got.etag, lastModified: got.lastModified } });
    } catch (err) {
      // A default location the publisher no longer serves is skipped; the feed decides
      // whether what remains is enough. An input the user named is never skipped.
      if (!from && err instanceof DownloadError && (err.status === 404 || err.status === 410)) {
        process.stderr.write(`patchloop: ${feed.name}: warning: ${err.message}; going on without it\n`);
        continue;
      }
      throw err;
    }
  }

  // What the feed was built from: an update whose downloads are all unchanged is skipped.
  const identity = JSON.stringify(inputs.map((i) => (i.download ? { url: i.spec, etag: i.download.etag, last_modified: i.download.lastModified } : { path: i.path })));
  const previous = existsSync(feedFile(dataDir, feed.name)) ? await currentFeedInfo(dataDir, feed.name) : null;
  if (previous && inputs.every((i) => i.download?.notModified) && previous.meta.inputs === identity) {
    process.stdout.write(`${feed.name}: up to date (updated ${previous.updated_at}, ${previous.entry_count.toLocaleString('en-US')} entries)\n`);
    return;
  }

  const warnings: string[] = [];
  const summary: FeedSummary = await replaceFeed(dataDir, feed.name, async (writer) => {
    writer.meta('source', specs.join(' '));
    writer.meta('inputs', identity);
    await feed.import(
      inputs.map((i) => i.path),
      {
        writer,
        warn: (message) => {
          if (warnings.length < WARNINGS_SHOWN) process.stderr.write(`patchloop: ${feed.name}: warning: ${message}\n`);
          warnings.push(message);
        },
      },
    );
  }, { locked: true });
  if (warnings.length > WARNINGS_SHOWN) process.stderr.write(`patchloop: ${feed.name}: … and ${warnings.length - WARNINGS_SHOWN} more warnings\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const n = (x: number) => x.toLocaleString('en-US');
  process.stdout.write(
    `${feed.name}: ${n(summary.entries)} entries, ${n(summary.vulnerabilities)} vulnerabilities, ${n(summary.support)} support rows` +
      ` (${summary.distros.join(', ') || 'no distros'}) in ${seconds} s${warnings.length ? `, ${n(warnings.length)} warnings` : ''}\n`,
  );
}

interface StatusRow {
  feed: string;
  file: string;
  updated_at: string | null;
  age_seconds: number | null;
  entries: number | null;
  distros: string[];
  source: string | null;
  error?: string;
}

async function runStatus(opts: StatusOptions): Promise<void> {
  const { VulnDb } = await import('../../vulndb/reader.ts');
  const { feedFile, vulnDbDir } = await import('../../vulndb/paths.ts');
  const dataDir = await dataDirOf(opts);
  const now = Date.now();
  const rows: StatusRow[] = [];
  for (const feed of await feedsOnDisk(dataDir)) {
    try {
      const db = VulnDb.open(dataDir, [feed]);
      const info = db.feeds()[0];
      db.close();
      const updated = Date.parse(info.updated_at);
      rows.push({
        feed,
        file: info.file,
        updated_at: info.updated_at,
        age_seconds: Number.isNaN(updated) ? null : Math.max(0, Math.round((now - updated) / 1000)),
        entries: info.entry_count,
        distros: info.distros,
        source: info.meta.source ?? null,
      });
    } catch (err) {
      rows.push({ feed, file: feedFile(dataDir, feed), updated_at: null, age_seconds: null, entries: null, distros: [], source: null, error: reason(err) });
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
  const table = [
    ['FEED', 'UPDATED', 'AGE', 'ENTRIES', 'DISTROS', 'SOURCE'],
    ...rows.map((r) =>
      r.error
        ? [r.feed, '-', '-', '-', '-', `unreadable: ${r.error}`]
        : [r.feed, r.updated_at ?? '-', age(r.age_seconds), (r.entries ?? 0).toLocaleString('en-US'), r.distros.join(',') || '-', r.source ?? '-'],
    ),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const lines = table.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '));
  process.stdout.write(`${lines.join('\n')}\n`);
}

function age(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
