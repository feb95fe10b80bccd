// What the server's vulnerability DB knows of each vulnerability beyond its advisories — CISA KEV,
// FIRST EPSS, CVSS — and the priority (core/priority.ts) of each open exposure from it. Nothing of
// it is stored with the findings: it is read per vulnerability from the DB now open and kept in
// memory, so when a feed refresh brings a new KEV catalogue or new EPSS scores (the holder opens
// new files), every exposure is ranked again at once, without any agent scanning again.
import type { SQLInputValue } from 'node:sqlite';
import { priorityOf, type PriorityConfig } from '../core/priority.ts';
import { leadingCvss } from '../core/severity.ts';
import {
  FINDING_STATUSES,
  PRIORITY_LEVELS,
  SEVERITIES,
  type Enrichment,
  type Priority,
  type PriorityLevel,
} from '../core/types.ts';
import type { VulnDb } from '../vulndb/reader.ts';
import type { Store } from './store/store.ts';
import type { VulnDbHolder } from './vulndb-holder.ts';

/**
 * SQL functions the queries filter and sort exposures with (registered on the store's connection):
 * the priority's rank (1 for P1) of (vuln_id, severity, status), whether vuln_id is known
 * exploited (1 or 0), its EPSS score (null when unknown).
 */
export const SQL_PRIORITY = 'pl_priority';
export const SQL_KEV = 'pl_kev';
export const SQL_EPSS = 'pl_epss';

const NONE: Enrichment = Object.freeze({}) as Enrichment;

export class ServerEnrichment {
  private readonly store: Store;
  private readonly vulndb: VulnDbHolder;
  readonly config: PriorityConfig;
  /** The DB the memo below was read from: another one (a refresh) starts it over. */
  private source: VulnDb | null = null;
  private readonly byVuln = new Map<number, Enrichment>();
  /** Priorities per (vulnerability, severity, status), the same for every host. */
  private readonly ranks = new Map<number, number>();
  private readonly titles = new Map<number, string>();
  /** Incremented whenever the enrichment is read afresh (a new DB): derived counts are derived again. */
  generation = 0;

  constructor(store: Store, vulndb: VulnDbHolder, config: PriorityConfig) {
    this.store = store;
    this.vulndb = vulndb;
    this.config = config;
    // Not deterministic: a refresh changes their answers for the same arguments.
    store.db.function(SQL_PRIORITY, (vulnId: SQLInputValue, severity: SQLInputValue, status: SQLInputValue) =>
      this.rank(Number(vulnId), Number(severity), Number(status)),
    );
    store.db.function(SQL_KEV, (vulnId: SQLInputValue) => (this.knownExploited(Number(vulnId)) ? 1 : 0));
    store.db.function(SQL_EPSS, (vulnId: SQLInputValue) => this.of(Number(vulnId)).epss?.score ?? null);
  }

  /** The DB open now; when it is another than last time, what was read of the old one is dropped. */
  private db(): VulnDb {
    const db = this.vulndb.current();
    if (db !== this.source) {
      this.source = db;
      this.byVuln.clear();
      this.ranks.clear();
      this.titles.clear();
      this.generation++;
      // The open vulnerabilities in one query per table: the lists ask for all of them.
      if (db.hasEnrichment()) {
        const ids = [...this.store.vulns.entries()].map(([id]) => id);
        const found = db.enrichMany(ids.map((id) => this.store.interner.vuln(id)));
        for (const id of ids) this.byVuln.set(id, found.get(this.store.interner.vuln(id)) ?? NONE);
      }
    }
    return db;
  }

  /** KEV, EPSS and CVSS of an interned vulnerability (empty when nothing is known). */
  of(vulnId: number): Enrichment {
    const db = this.db();
    let e = this.byVuln.get(vulnId);
    if (e === undefined) {
      e = (db.hasEnrichment() ? db.enrichment(this.store.interner.vuln(vulnId)) : null) ?? NONE;
      this.byVuln.set(vulnId, e);
    }
    return e;
  }

  /** A line saying what the vulnerability is: the first sentence of its description (up to 160 characters). */
  title(vulnId: number): string {
    let t = this.titles.get(vulnId);
    if (t === undefined) {
      const text = (this.db().vulnerability(this.store.interner.vuln(vulnId))?.description ?? '').trim();
      const first = text.split(/(?<=[.!?])\s+|\n/)[0] ?? '';
      t = first.length > 160 ? `${first.slice(0, 159).trimEnd()}…` : first;
      if (this.titles.size > 100_000) this.titles.clear();
      this.titles.set(vulnId, t);
    }
    return t;
  }

  /**
   * Identifies the feed files ranked with (changes when a refresh has replaced any and the server
   * opened them): the open files', not the disk's, which change a moment before they are opened.
   */
  fingerprint(): string {
    this.db();
    return this.vulndb.currentFingerprint();
  }

  knownExploited(vulnId: number): boolean {
    return this.of(vulnId).kev !== undefined;
  }

  /** The priority of an exposure: its vulnerability, and its lead's severity and status (indexes). */
  priority(vulnId: number, severity: number, status: number): Priority {
    const e = this.of(vulnId);
    return priorityOf(
      {
        severity: SEVERITIES[Math.min(severity, SEVERITIES.length - 1)],
        status: FINDING_STATUSES[status] ?? 'affected',
        ...(e.kev ? { kev: e.kev } : {}),
        ...(e.epss ? { epss: e.epss } : {}),
      },
      this.config,
    );
  }

  /** The priority's rank, 1 (P1) to 4 (P4): memoised per vulnerability, severity and status. */
  rank(vulnId: number, severity: number, status: number): number {
    this.db();
    const key = (vulnId * 8 + severity) * 8 + status;
    let r = this.ranks.get(key);
    if (r === undefined) {
      r = PRIORITY_LEVELS.indexOf(this.priority(vulnId, severity, status).level) + 1;
      this.ranks.set(key, r);
    }
    return r;
  }

  /** The fields an exposure or finding carries in the API: present when known, priority always. */
  fields(vulnId: number, severity: number, status: number) {
    const e = this.of(vulnId);
    const lead = leadingCvss(e.cvss);
    return {
      kev: e.kev ?? null,
      epss: e.epss ?? null,
      cvss: e.cvss ?? [],
      cvss_score: lead ? lead.score : null,
      priority: this.priority(vulnId, severity, status),
    };
  }
}

export const levelRank = (level: PriorityLevel): number => PRIORITY_LEVELS.indexOf(level) + 1;

const servers = new WeakMap<Store, ServerEnrichment>();

/** The enrichment made for this store, if any (the exporter ranks its documents with it). */
export function existingEnrichment(store: Store): ServerEnrichment | undefined {
  return servers.get(store);
}

/** The enrichment of a running server's store (one per store, made on first use). */
export function enrichmentOf(ctx: {
  store: Store;
  vulndb: VulnDbHolder;
  config: { priority: PriorityConfig };
}): ServerEnrichment {
  let e = servers.get(ctx.store);
  if (!e) {
    e = new ServerEnrichment(ctx.store, ctx.vulndb, ctx.config.priority);
    servers.set(ctx.store, e);
  }
  return e;
}
