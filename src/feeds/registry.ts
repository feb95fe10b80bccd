// The feed registry: one entry per source name accepted by `patchloop db update --source`.
// Modules are loaded only when their feed is used.
import type { FeedWriter } from '../vulndb/writer.ts';
import type { RhelRebuild } from './osv/rhel-family.ts';

export interface FeedImportContext {
  writer: FeedWriter;
  /** Progress and non-fatal problems (e.g. a skipped malformed record, naming file and record). */
  warn: (message: string) => void;
}

export interface FeedSource {
  /** The source name (`debian`, `ubuntu`, …), also the feed file name in the vulnerability DB. */
  readonly name: string;
  readonly description: string;
  /** Where `db update` downloads from when no --from is given. Empty: --from is required. */
  readonly defaultUrls: readonly string[];
  /**
   * Imports local inputs (files, directories or archives; URLs have been downloaded to local
   * files already). Throws on input that is not this feed's format: the update is then
   * abandoned and the previous DB kept.
   */
  import(inputs: readonly string[], ctx: FeedImportContext): Promise<void>;
  /**
   * For a feed whose download only points at its data (a mirror list naming a repository,
   * a repomd.xml naming the updateinfo file): given a downloaded input, the URLs to download
   * in its place; null when it is the data itself. update.ts follows up to MAX_FOLLOW steps;
   * the URLs a feed was finally built from decide whether a later update is needed.
   */
  follow?(download: FeedDownload): Promise<readonly string[] | null>;
}

/** A downloaded input: the URL asked for and the complete local copy. */
export interface FeedDownload {
  url: string;
  path: string;
}

/** The RHEL rebuilds: one importer (osv/rhel-family.ts), an entry of data each. */
const RHEL_REBUILDS = {
  // AlmaLinux/osv-database, or osv.dev's AlmaLinux all.zip: ALSA/ALBA/ALEA advisories naming
  // binary rpms.
  almalinux: {
    name: 'almalinux',
    distro: 'almalinux',
    description: 'AlmaLinux advisories (ALSA): OSV records and/or repository updateinfo.xml',
    defaultUrls: ['https://osv-vulnerabilities.storage.googleapis.com/AlmaLinux/all.zip'],
  },
  // RLSA as published to osv.dev: the OSV records name source rpms (key kind `source`,
  // osv/ecosystems.ts); the repositories' updateinfo.xml names the binary rpms.
  rocky: {
    name: 'rocky',
    distro: 'rocky',
    description: 'Rocky Linux advisories (RLSA): OSV records and/or repository updateinfo.xml',
    defaultUrls: ['https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip'],
  },
} satisfies Record<string, RhelRebuild>;

async function rhelRebuild(rebuild: RhelRebuild): Promise<FeedSource> {
  return (await import('./osv/rhel-family.ts')).rhelRebuildFeed(rebuild);
}

const LOADERS: Record<string, () => Promise<FeedSource>> = {
  debian: async () => (await import('./debian/index.ts')).debianFeed,
  ubuntu: async () => (await import('./ubuntu/index.ts')).ubuntuFeed,
  alpine: async () => (await import('./alpine/index.ts')).alpineFeed,
  almalinux: () => rhelRebuild(RHEL_REBUILDS.almalinux),
  rocky: () => rhelRebuild(RHEL_REBUILDS.rocky),
  amazon: async () => (await import('./amazon/index.ts')).amazonFeed,
  redhat: async () => (await import('./redhat/index.ts')).redhatFeed,
  osv: async () => (await import('./osv/index.ts')).osvFeed,
  // Exploitation data, not advisories: enrich findings by vulnerability id (no distribution).
  kev: async () => (await import('./kev/index.ts')).kevFeed,
  epss: async () => (await import('./epss/index.ts')).epssFeed,
};

export const FEED_NAMES = Object.keys(LOADERS);

export async function loadFeed(name: string): Promise<FeedSource> {
  const load = LOADERS[name];
  if (!load) throw new Error(`unknown feed source "${name}" (known: ${FEED_NAMES.join(', ')})`);
  return load();
}
