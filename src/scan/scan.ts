// A standalone scan of one host or root directory: inventory → local vulnerability DB → findings.
import { hostname } from 'node:os';
import { resolveDistro, UnsupportedDistroError, type DistroProfile } from '../core/distros.ts';
import { matchInventory, type KernelSummary } from '../core/match.ts';
import { DEFAULT_PRIORITY_CONFIG, enrichFinding, type PriorityConfig } from '../core/priority.ts';
import type { Finding, Inventory } from '../core/types.ts';
import { VulnDb, type FeedInfo } from '../vulndb/reader.ts';
import { findingNamed, SCAN_SCHEMA, summarise, type ScanReport } from './report.ts';
import { PatchloopError } from '../core/errors.ts';

/** A DB older than this gets a warning: feeds publish daily. */
const STALE_AFTER_MS = 2 * 24 * 3600 * 1000;

export interface ScanOptions {
  root: string;
  dataDir: string;
  /** Running kernel release for a root other than `/`. */
  kernel?: string;
  onlyFixed?: boolean;
  /** Only findings of these vulnerabilities: an id, an alias or an advisory id each (report.ts findingNamed). */
  vulnerabilities?: readonly string[];
  includeUndetermined?: boolean;
  proAttached?: boolean;
  /** The priority rule's thresholds (core/priority.ts); the defaults when absent. */
  priority?: PriorityConfig;
  now?: Date;
}

/** Exploitation data: not a distribution's feed, but read for every scan when present. */
const ENRICHMENT_FEEDS = ['kev', 'epss'];

export async function scanHost(options: ScanOptions): Promise<ScanReport> {
  const { readInventory } = await import('../inventory/index.ts');
  let inventory: Inventory;
  try {
    inventory = await readInventory(options.root, { kernel: options.kernel });
  } catch (err) {
    throw new PatchloopError('PL_E_CANNOT_SCAN', err instanceof Error ? err.message : String(err));
  }
  const now = options.now ?? new Date();
  const warnings = [...(inventory.warnings ?? [])];

  let distro: ReturnType<typeof resolveDistro>;
  try {
    distro = resolveDistro(inventory.os);
  } catch (err) {
    if (err instanceof UnsupportedDistroError) throw new PatchloopError('PL_E_CANNOT_SCAN', err.message);
    throw err;
  }

  const db = openDb(options.dataDir, distro.profile);
  try {
    const feeds = [
      ...db.feedsFor(distro.profile.advisoryDistro ?? distro.profile.id),
      ...db.feeds().filter((f) => ENRICHMENT_FEEDS.includes(f.feed)),
    ];
    for (const f of feeds) {
      const age = now.getTime() - Date.parse(f.updated_at);
      if (age > STALE_AFTER_MS) {
        warnings.push(
          `vulnerability data of feed "${f.feed}" is ${Math.floor(age / 86400000)} days old (updated ${f.updated_at}); run \`patchloop db update\``,
        );
      }
    }
    const result = matchInventory(inventory, db, {
      today: now.toISOString().slice(0, 10),
      includeUndetermined: options.includeUndetermined,
      proAttached: options.proAttached,
    });
    warnings.push(...result.warnings);
    const wanted = options.vulnerabilities ?? [];
    const findings = enrich(result.findings, db, result.kernel, options.priority).filter(
      (f) =>
        (!options.onlyFixed || f.status === 'fixed') &&
        (wanted.length === 0 || wanted.some((id) => findingNamed(f, id))),
    );
    return {
      schema: SCAN_SCHEMA,
      scanned_at: now.toISOString(),
      host: {
        hostname: options.root === '/' ? hostname() : null,
        root: options.root,
        os: inventory.os,
        kernel: inventory.kernel,
        distro: result.distro,
        release: result.release,
        package_count: inventory.packages.length,
      },
      db: feeds.map((f: FeedInfo) => ({ feed: f.feed, updated_at: f.updated_at, entries: f.entry_count })),
      summary: summarise(findings),
      kernel: result.kernel,
      support: result.support,
      unsupported_packages: result.unsupported,
      warnings,
      findings,
    };
  } finally {
    db.close();
  }
}

function openDb(dataDir: string, profile: DistroProfile): VulnDb {
  let db: VulnDb;
  try {
    db = VulnDb.open(dataDir);
  } catch (err) {
    throw new PatchloopError('PL_E_CANNOT_SCAN', err instanceof Error ? err.message : String(err));
  }
  // A distribution no feed applies to (CentOS Stream) is scanned without data; the matcher says so.
  if (profile.feeds.length > 0 && db.feedsFor(profile.advisoryDistro ?? profile.id).length === 0) {
    db.close();
    throw new PatchloopError(
      'PL_E_CANNOT_SCAN',
      `no vulnerability data for ${profile.name} in ${dataDir}; run \`patchloop db update --source ${profile.feeds[0]}\` first`,
    );
  }
  return db;
}

/**
 * Each finding with its KEV, EPSS and CVSS (one query per table and feed file for all of them)
 * and its priority. A finding on the running kernel's image says so in its reason.
 */
function enrich(
  findings: readonly Finding[],
  db: VulnDb,
  kernel: KernelSummary,
  config: PriorityConfig = DEFAULT_PRIORITY_CONFIG,
): Finding[] {
  const known = db.hasEnrichment() ? db.enrichMany(findings.map((f) => f.id)) : new Map();
  const runningImages = new Set(kernel.images.filter((i) => i.running).map((i) => `${i.name}\0${i.version}`));
  return findings.map((f) =>
    enrichFinding(
      f,
      known.get(f.id),
      config,
      !f.kernel_not_running && runningImages.has(`${f.package.name}\0${f.package.version}`),
    ),
  );
}
