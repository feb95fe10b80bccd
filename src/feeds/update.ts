// Updating one feed of the local vulnerability DB: download its inputs (cached, revalidated),
// skip the rebuild when every input is unchanged, import, and swap the new file in atomically,
// all under the feed's lock (which also clears what an interrupted update left behind). Used by
// `patchloop db update`, and in a worker thread by the server's feed refresh (update-thread.ts):
// the result is data, the caller decides what to print or log.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PatchloopError } from '../core/errors.ts';
import { FeedUpdateError, replaceFeed, withFeedLock, type FeedSummary } from '../vulndb/writer.ts';
import { feedFile } from '../vulndb/paths.ts';
import { VulnDb, type FeedInfo } from '../vulndb/reader.ts';
import { download, DownloadError } from './download.ts';
import { clearFailure, recordFailure } from './last-failure.ts';
import { FEED_NAMES, loadFeed, type FeedSource } from './registry.ts';
import { counted } from '../core/plural.ts';

/** Import warnings kept in the result; the rest are counted (every one is still reported as an event). */
export const WARNINGS_KEPT = 20;

export type FeedUpdateStatus = 'updated' | 'up_to_date' | 'failed';

export interface FeedUpdateResult {
  feed: string;
  status: FeedUpdateStatus;
  /**
   * One line saying what happened, without the feed's name: the counts and time of an update,
   * "up to date (…)", or for a failure which database was kept and why.
   */
  message: string;
  /** The feed's database in place afterwards: the new one, the unchanged one, or the one a failed update kept. */
  database: { updated_at: string; entries: number; distros: string[] } | null;
  /** What the import wrote; only for `updated`. */
  imported: { entries: number; vulnerabilities: number; support: number } | null;
  seconds: number;
  /** The first WARNINGS_KEPT warnings of the import. */
  warnings: string[];
  warning_count: number;
}

/**
 * Something to tell while the update runs: `progress` (a retried or skipped download, removed
 * leftovers) or an import `warning` (a skipped malformed record, naming file and record).
 */
export interface FeedUpdateEvent {
  kind: 'progress' | 'warning';
  message: string;
}

/** How far a long step has come, for a progress display (the command line's, on a terminal). */
export type FeedProgress =
  | { stage: 'download'; url: string; bytes: number; total: number | null }
  | { stage: 'import'; entries: number; done: boolean };

export interface FeedUpdateOptions {
  dataDir: string;
  /** Files, directories or URLs to import instead of the feed's default downloads. */
  from?: readonly string[];
  onEvent?: (event: FeedUpdateEvent) => void;
  /** Called often during downloads and imports (in this thread only: not sent from a worker). */
  onProgress?: (progress: FeedProgress) => void;
}

/** Entries between two import progress calls. */
const IMPORT_PROGRESS_EVERY = 1000;

interface ResolvedInput {
  /** What was asked for: a URL or a local path. */
  spec: string;
  path: string;
  /** For downloads: the server's (or file's) version identity. */
  download?: { notModified: boolean; etag: string | null; lastModified: string | null };
}

/**
 * Updates one feed. Never throws for a failed update: the result says `failed`, why, and which
 * database was kept.
 */
export async function updateFeed(name: string, options: FeedUpdateOptions): Promise<FeedUpdateResult> {
  const started = performance.now();
  const run: Run = { seconds: () => (performance.now() - started) / 1000, warnings: [], warningCount: 0 };
  try {
    const feed = await loadFeed(name);
    const leftovers = (files: string[]): void => {
      options.onEvent?.({
        kind: 'progress',
        message: `removed ${counted(files.length, 'file')} left by an interrupted update: ${files.join(', ')}`,
      });
    };
    return await withFeedLock(options.dataDir, feed.name, () => updateLocked(feed, options, run), leftovers);
  } catch (err) {
    // The warnings of an import that then failed often say why.
    return {
      ...failedUpdate(name, options.dataDir, reason(err), run.seconds()),
      warnings: run.warnings,
      warning_count: run.warningCount,
    };
  }
}

/** What one update has measured and collected so far. */
interface Run {
  seconds: () => number;
  warnings: string[];
  warningCount: number;
}

/** The result of an update that did not happen: `why`, and the database that stays. */
export function failedUpdate(feed: string, dataDir: string, why: string, seconds: number): FeedUpdateResult {
  if (FEED_NAMES.includes(feed)) recordFailure(dataDir, feed, why);
  const previous = currentFeedInfo(dataDir, feed);
  const kept = previous
    ? `previous database kept (updated ${previous.updated_at})`
    : 'there was no previous database of it';
  return {
    feed,
    status: 'failed',
    message: `${kept}: ${why}`,
    database: databaseOf(previous),
    imported: null,
    seconds,
    warnings: [],
    warning_count: 0,
  };
}

/** The feed's current DB metadata, or null when it has none (or it cannot be read). */
export function currentFeedInfo(dataDir: string, feed: string): FeedInfo | null {
  try {
    if (!existsSync(feedFile(dataDir, feed))) return null;
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

/** The message of an error, without the writer's own "update of feed … failed" prefix. */
function reason(err: unknown): string {
  if (err instanceof FeedUpdateError && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

function databaseOf(info: FeedInfo | null): FeedUpdateResult['database'] {
  return info ? { updated_at: info.updated_at, entries: info.entry_count, distros: info.distros } : null;
}

async function updateLocked(feed: FeedSource, options: FeedUpdateOptions, run: Run): Promise<FeedUpdateResult> {
  const { dataDir, from } = options;
  const specs = from ?? feed.defaultUrls;
  if (specs.length === 0)
    throw new Error(`the ${feed.name} feed has no default download location; give its input with --from`);

  const inputs = await resolveInputs(feed, dataDir, specs, from !== undefined, options);

  // What the feed was built from: an update whose downloads are all unchanged is skipped.
  const identity = JSON.stringify(
    inputs.map((i) =>
      i.download ? { url: i.spec, etag: i.download.etag, last_modified: i.download.lastModified } : { path: i.path },
    ),
  );
  const previous = currentFeedInfo(dataDir, feed.name);
  if (previous && inputs.every((i) => i.download?.notModified) && previous.meta.inputs === identity) {
    clearFailure(dataDir, feed.name);
    return {
      feed: feed.name,
      status: 'up_to_date',
      message: `up to date (updated ${previous.updated_at}, ${count(previous.entry_count)} entries)`,
      database: databaseOf(previous),
      imported: null,
      seconds: run.seconds(),
      warnings: [],
      warning_count: 0,
    };
  }

  const summary = await replaceFeed(
    dataDir,
    feed.name,
    async (writer) => {
      writer.meta('source', specs.join(' '));
      writer.meta('inputs', identity);
      const progress = options.onProgress;
      let entries = 0;
      const counting = progress
        ? {
            ...writer,
            entry: (e: Parameters<typeof writer.entry>[0]) => {
              writer.entry(e);
              if (++entries % IMPORT_PROGRESS_EVERY === 0) progress({ stage: 'import', entries, done: false });
            },
          }
        : writer;
      await feed.import(
        inputs.map((i) => i.path),
        {
          writer: counting,
          warn: (message) => {
            if (run.warnings.length < WARNINGS_KEPT) run.warnings.push(message);
            run.warningCount++;
            options.onEvent?.({ kind: 'warning', message });
          },
        },
      );
      progress?.({ stage: 'import', entries, done: true });
    },
    { locked: true },
  );
  clearFailure(dataDir, feed.name);
  const took = run.seconds();
  return {
    feed: feed.name,
    status: 'updated',
    message: `${importedWords(summary)} in ${took.toFixed(1)} s${run.warningCount ? `, ${count(run.warningCount)} warnings` : ''}`,
    database: { updated_at: summary.updated_at, entries: summary.entries, distros: summary.distros },
    imported: { entries: summary.entries, vulnerabilities: summary.vulnerabilities, support: summary.support },
    seconds: took,
    warnings: run.warnings,
    warning_count: run.warningCount,
  };
}

/** Steps a feed's `follow` may take from an input to its data (mirror list → repomd.xml → updateinfo is two). */
export const MAX_FOLLOW = 4;

/**
 * Local paths for every input; URLs are downloaded into the feed's cache (revalidated), and a
 * download the feed follows (`FeedSource.follow`) is replaced by what it leads to.
 */
async function resolveInputs(
  feed: FeedSource,
  dataDir: string,
  specs: readonly string[],
  named: boolean,
  { onEvent, onProgress }: FeedUpdateOptions,
): Promise<ResolvedInput[]> {
  const cacheDir = join(dataDir, 'cache', feed.name);
  const inputs: ResolvedInput[] = [];
  const fetchInput = async (url: string, steps: number): Promise<void> => {
    let got;
    try {
      got = await download(url, cacheDir, {
        onRetry: (r) =>
          onEvent?.({ kind: 'progress', message: `${r.reason}; retrying in ${(r.delayMs / 1000).toFixed(1)} s` }),
        onBytes: onProgress && ((bytes, total) => onProgress({ stage: 'download', url, bytes, total })),
      });
    } catch (err) {
      // A default location the publisher no longer serves is skipped; the feed decides
      // whether what remains is enough. An input the user named is never skipped.
      if (!named && err instanceof DownloadError && (err.status === 404 || err.status === 410)) {
        onEvent?.({ kind: 'progress', message: `warning: ${err.message}; going on without it` });
        return;
      }
      throw err;
    }
    const next = await feed.follow?.({ url, path: got.path });
    if (!next) {
      inputs.push({
        spec: url,
        path: got.path,
        download: { notModified: got.notModified, etag: got.etag, lastModified: got.lastModified },
      });
      return;
    }
    if (steps >= MAX_FOLLOW)
      throw new PatchloopError(
        'PL_E_FEED_INPUT',
        `${url}: still no ${feed.name} data ${MAX_FOLLOW} steps after the input named`,
      );
    for (const n of next) await fetchInput(n, steps + 1);
  };
  for (const spec of specs) {
    if (/^(?:https?|file):/i.test(spec)) await fetchInput(spec, 0);
    else inputs.push({ spec, path: resolve(spec) });
  }
  return inputs;
}

/** What an import wrote, in words: advisory entries and the rest, or a feed's exploitation data. */
function importedWords(s: FeedSummary): string {
  if (s.entries === 0 && (s.kev > 0 || s.epss > 0)) {
    const parts = [];
    if (s.kev > 0) parts.push(`${count(s.kev)} known exploited vulnerabilities`);
    if (s.epss > 0) parts.push(`${count(s.epss)} EPSS scores`);
    return parts.join(', ');
  }
  return (
    `${count(s.entries)} entries, ${count(s.vulnerabilities)} vulnerabilities, ${count(s.support)} support rows` +
    `${s.cvss > 0 ? `, ${count(s.cvss)} CVSS scores` : ''} (${s.distros.join(', ') || 'no distros'})`
  );
}

function count(x: number): string {
  return x.toLocaleString('en-US');
}
