// The debian feed: the Debian Security Tracker JSON, with advisory ids from the tracker's
// DSA/DLA lists and Debian's security-support lists. See ./README.md for the rules.
import type { FeedImportContext, FeedSource } from '../registry.ts';
import { AdvisoryIndex, parseAdvisoryList } from './advisory-list.ts';
import { classifyInputs, DebianInputError, readText } from './inputs.ts';
import { endedNote, expandPattern, limitedNote, parseSupportEnded, parseSupportLimited } from './support-lists.ts';
import { convertRecord, PACKAGE_NAME } from './tracker.ts';
import { fileChunks, readTopLevelObjects } from './tracker-stream.ts';

const TRACKER = 'https://security-tracker.debian.org/tracker';
const TRACKER_GIT = 'https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data';
const SUPPORT_GIT = 'https://salsa.debian.org/debian/debian-security-support/-/raw/master';

export const DEFAULT_URLS: readonly string[] = [
  `${TRACKER}/data/json`,
  `${TRACKER_GIT}/DSA/list`,
  `${TRACKER_GIT}/DLA/list`,
  `${SUPPORT_GIT}/security-support-ended.deb11`,
  `${SUPPORT_GIT}/security-support-ended.deb12`,
  `${SUPPORT_GIT}/security-support-ended.deb13`,
  `${SUPPORT_GIT}/security-support-limited`,
];

export interface DebianImportOptions {
  /** "Today", to tell support that has ended from support announced to end (default: now). */
  now?: Date;
}

export interface DebianImportStats {
  packages: number;
  records: number;
  entries: number;
  /** Releases resolved in version "0" (never affected): counted, not stored. */
  notAffected: number;
  malformedRecords: number;
  vulnerabilities: number;
  advisoryFixes: number;
  entriesWithAdvisories: number;
  supportRows: number;
  releases: string[];
}

/** Imports the feed's inputs through `ctx.writer`. Throws when the inputs are not usable. */
export async function importDebian(
  inputs: readonly string[],
  ctx: FeedImportContext,
  options: DebianImportOptions = {},
): Promise<DebianImportStats> {
  const files = classifyInputs(inputs, ctx.warn);
  const w = ctx.writer;

  const advisories = new AdvisoryIndex();
  for (const f of files)
    if (f.kind === 'advisories') advisories.add(parseAdvisoryList(readText(f.path), f.path, ctx.warn));

  const tracker = files.find((f) => f.kind === 'tracker');
  if (!tracker) throw new DebianInputError('no tracker JSON among the inputs');
  const stats: DebianImportStats = {
    packages: 0,
    records: 0,
    entries: 0,
    notAffected: 0,
    malformedRecords: 0,
    vulnerabilities: 0,
    advisoryFixes: advisories.fixes,
    entriesWithAdvisories: 0,
    supportRows: 0,
    releases: [],
  };
  const packages = new Set<string>();
  const releases = new Set<string>();
  const vulns = new Map<string, { description: string; bugs: Set<number> }>();

  for await (const member of readTopLevelObjects(fileChunks(tracker.path), tracker.path)) {
    const pkg = member.name;
    const ids = Object.keys(member.value);
    if (!PACKAGE_NAME.test(pkg)) {
      ctx.warn(
        `${tracker.path}:${member.line}: ${JSON.stringify(pkg)} is not a source package name, its ${ids.length} record(s) skipped`,
      );
      stats.records += ids.length;
      stats.malformedRecords += ids.length;
      continue;
    }
    packages.add(pkg);
    for (const id of ids) {
      stats.records++;
      const place = { file: tracker.path, line: member.line };
      const result = convertRecord(pkg, id, member.value[id], place, ctx.warn, (release, fixed) =>
        advisories.lookup(release, pkg, id, fixed),
      );
      if (!result) {
        stats.malformedRecords++;
        continue;
      }
      stats.notAffected += result.notAffected;
      for (const e of result.entries) {
        w.entry(e);
        releases.add(e.release);
        stats.entries++;
        if (e.advisory_ids.length) stats.entriesWithAdvisories++;
      }
      const v = vulns.get(id);
      if (!v)
        vulns.set(id, { description: result.description, bugs: new Set(result.debianbug ? [result.debianbug] : []) });
      else {
        if (!v.description) v.description = result.description;
        if (result.debianbug) v.bugs.add(result.debianbug);
      }
    }
  }
  stats.packages = packages.size;
  if (stats.records === 0) throw new DebianInputError(`${tracker.path}: the tracker JSON holds no records`);
  // A file whose records are mostly unreadable is a format change, not a few bad records.
  if (stats.malformedRecords * 2 > stats.records) {
    throw new DebianInputError(
      `${tracker.path}: ${stats.malformedRecords} of ${stats.records} records are malformed; is this the Debian tracker JSON format?`,
    );
  }

  for (const [id, v] of vulns) {
    w.vulnerability({
      id,
      aliases: [],
      description: v.description,
      published: null,
      modified: null,
      references: [`${TRACKER}/${id}`, ...[...v.bugs].sort((a, b) => a - b).map((b) => `https://bugs.debian.org/${b}`)],
    });
  }
  stats.vulnerabilities = vulns.size;
  stats.releases = [...releases].sort();

  // Limited first: where a package is on both lists of a release, the ended row replaces it.
  const today = (options.now ?? new Date()).toISOString().slice(0, 10);
  for (const f of files) {
    if (f.kind !== 'support-limited') continue;
    for (const row of parseSupportLimited(readText(f.path))) {
      const names = expandPattern(row.pattern, packages, `${f.path}:${row.line}`, ctx.warn) ?? [];
      // The list carries no release: it is Debian's statement for every release the tracker covers.
      for (const release of stats.releases) {
        for (const name of names) {
          w.support({ distro: 'debian', release, package: name, kind: 'limited', note: limitedNote(row) });
          stats.supportRows++;
        }
      }
    }
  }
  for (const f of files) {
    if (f.kind !== 'support-ended') continue;
    for (const row of parseSupportEnded(readText(f.path), f.path, ctx.warn)) {
      const names = expandPattern(row.pattern, packages, `${f.path}:${row.line}`, ctx.warn) ?? [];
      const ended = row.date <= today;
      for (const name of names) {
        // Announced for a later date: support is still given, but it is limited in time.
        w.support({
          distro: 'debian',
          release: f.release,
          package: name,
          kind: ended ? 'ended' : 'limited',
          note: endedNote(row, ended),
        });
        stats.supportRows++;
      }
    }
  }

  w.meta('tracker_records', String(stats.records));
  w.meta('not_affected_skipped', String(stats.notAffected));
  w.meta('malformed_records', String(stats.malformedRecords));
  w.meta('advisory_fixes', String(stats.advisoryFixes));
  return stats;
}

export const debianFeed: FeedSource = {
  name: 'debian',
  description: 'Debian Security Tracker (JSON), DSA/DLA advisory lists, Debian security-support lists',
  defaultUrls: DEFAULT_URLS,
  async import(inputs, ctx) {
    await importDebian(inputs, ctx);
  },
};
