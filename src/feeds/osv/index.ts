// The generic OSV feed: any directory or archive of OSV records (osv.dev's per-ecosystem
// `all.zip`, a git checkout of a distribution's OSV repository, a tarball). Every
// distribution ecosystem patchloop scans is imported (ecosystems.ts); language ecosystems are
// out of scope and counted in one summary warning.
//
// How records are read (convert.ts), the same for every OSV-based feed:
// - validation: the schema's rules for the fields read (schema.ts); a failing record is
//   skipped with a warning naming its file and id; `withdrawn` records are skipped.
// - ECOSYSTEM ranges: events sorted in the ecosystem's version order, one entry per interval;
//   `introduced: "0"` is null; `last_affected` closes an interval without a fix. GIT and
//   SEMVER ranges say nothing about distribution packages and are ignored.
// - `versions`: ignored when a range exists (the range covers them; Canonical lists every
//   published version there). Without a range, each listed version is affected exactly.
// - vuln_id: the CVE when the record is about one (id, aliases, upstream; else the CVEs an
//   advisory lists under `related` or in its references), else the record id; the record id
//   (ALSA/RLSA/USN/…) goes into advisory_ids of the entries that carry its fixes.
// - severity: the distribution's own rating (Ubuntu priority, Red Hat impact in RHEL-family
//   summaries, `severity` in ecosystem/database_specific) before a CVSS v3 score.
// - a record deriving from other records of the same input (USN → UBUNTU-CVE) is used only
//   when those records are absent.
// - several fixed builds of one vulnerability for one package: the lowest one of each upstream
//   version line stays, higher rpm lines starting where their line starts (entries.ts).
import type { FeedSource } from '../registry.ts';
import { importOsv } from './import.ts';

export const osvFeed: FeedSource = {
  name: 'osv',
  description:
    'any OSV directory or archive (zip, tar, tar.gz, tar.xz, tar.zst): Debian, Ubuntu, AlmaLinux, Rocky, Alpine and Red Hat ecosystems',
  defaultUrls: [],
  async import(inputs, ctx) {
    await importOsv(inputs, ctx, { feed: 'osv', acceptTarget: () => true, consolidate: 'global' });
  },
};
