// Which open exposures the exception rules hold, kept right as findings and rules change. A held
// exposure stays open = 1 (it is still there) with the rule's id, but leaves the open counts: its
// host's counters and the open ages (SLA overdue) no longer count it. Every change goes through
// one step per host: its held exposures are first counted back in ("lifted"), whatever changes
// (a scan, a re-match) happens, and the rules in force are then applied again. An exposure a rule
// no longer holds (the rule expired or was revoked, its severity rose, it left the scope) is
// reopened with a `reopened` event whose cause says why.
import { ruleFor, scopeMatches, stillCovers, type ExceptionTarget } from '../../core/exceptions.ts';
import { SEVERITIES } from '../../core/types.ts';
import { DAY_MS, dayOf } from '../clock.ts';
import { existingEnrichment } from '../enrichment.ts';
import { AggregateBatch } from './aggregates.ts';
import { activeRules, endedRules, exceptionById, markEnded, ruleState, type ExceptionRule } from './exceptions.ts';
import { exposureIdentity } from './finding-identity.ts';
import { applyFindings, packItems, type DiffContext, type DiffCounts } from './history.ts';
import type { StoredFinding } from './finding-identity.ts';
import type { Store } from './store.ts';

interface HostInfo {
  id: number;
  hostname: string;
  grp: string;
  tags: string[];
}

interface OpenExposure {
  vuln_id: number;
  src_id: number;
  lead_name_id: number;
  lead_pkg_id: number;
  severity: number;
  fixable: number;
  opened_at: number;
  exception_id: number | null;
  exception_severity: number | null;
}

interface Held {
  ruleId: number;
  baseline: number;
}

/** A host's exposures of one vulnerability that rules hold. */
interface HeldOfVuln {
  held: number;
  fixable: number;
  /** A rule holds every open exposure of it on the host. */
  all: boolean;
}

/** Per vulnerability, the host's open exposures that rules hold (only vulnerabilities with some). */
function heldByVuln(store: Store, hostId: number): Map<number, HeldOfVuln> {
  const out = new Map<number, HeldOfVuln>();
  for (const r of store.all<{ vuln_id: number; n: number; held: number; fixable: number }>(
    `SELECT vuln_id, count(*) AS n, count(exception_id) AS held,
       sum(CASE WHEN exception_id IS NULL THEN 0 ELSE fixable END) AS fixable
     FROM exposures WHERE host_id = ? AND +open = 1 GROUP BY vuln_id HAVING count(exception_id) > 0`,
    hostId,
  ))
    out.set(r.vuln_id, { held: r.held, fixable: r.fixable, all: r.held === r.n });
  return out;
}

const NONE: HeldOfVuln = { held: 0, fixable: 0, all: false };

/** Changes to one host's counters and open ages, written once; the vulnerability index's excepted counts follow. */
class CountDelta {
  readonly open = SEVERITIES.map(() => 0);
  readonly fixable = SEVERITIES.map(() => 0);
  /** What rules held on the host before the change (read only when they held something). */
  heldBefore = new Map<number, HeldOfVuln>();
  /** Rules were applied: what they hold may differ from heldBefore. */
  applied = false;
  private readonly host: HostInfo;
  private readonly agg: AggregateBatch;
  constructor(host: HostInfo, agg: AggregateBatch) {
    this.host = host;
    this.agg = agg;
  }
  /** The exposure counts again (+1) or stops counting (-1). */
  add(e: Pick<OpenExposure, 'severity' | 'fixable' | 'opened_at'>, d: 1 | -1): void {
    this.open[e.severity] += d;
    this.fixable[e.severity] += d * e.fixable;
    this.agg.openAgeChange(this.host.grp, e.severity, e.opened_at, d);
  }
  write(store: Store): void {
    const sets: string[] = [];
    SEVERITIES.forEach((s, i) => {
      if (this.open[i]) sets.push(`open_${s} = open_${s} + ${this.open[i]}`);
      if (this.fixable[i]) sets.push(`fix_${s} = fix_${s} + ${this.fixable[i]}`);
    });
    if (sets.length) store.run(`UPDATE hosts SET ${sets.join(', ')} WHERE id = ?`, this.host.id);
    if (this.applied || this.heldBefore.size > 0) this.writeVulns(heldByVuln(store, this.host.id));
  }
  /** The vulnerability index's excepted exposures and hosts, from what rules held before and hold now. */
  private writeVulns(after: Map<number, HeldOfVuln>): void {
    for (const vulnId of new Set([...this.heldBefore.keys(), ...after.keys()])) {
      const b = this.heldBefore.get(vulnId) ?? NONE;
      const a = after.get(vulnId) ?? NONE;
      if (a.held === b.held && a.fixable === b.fixable && a.all === b.all) continue;
      this.agg.vuln(vulnId, {
        excepted: a.held - b.held,
        exceptedFixable: a.fixable - b.fixable,
        exceptedHost: a.all === b.all ? undefined : { id: this.host.id, delta: a.all ? 1 : -1 },
      });
    }
  }
}

function hostInfo(store: Store, hostId: number): HostInfo | undefined {
  const h = store.get<{ id: number; hostname: string; grp: string; tags: string }>(
    'SELECT id, hostname, grp, tags FROM hosts WHERE id = ?',
    hostId,
  );
  return h ? { id: h.id, hostname: h.hostname, grp: h.grp, tags: JSON.parse(h.tags) as string[] } : undefined;
}

/** Rules whose host, group and tag (if given) fit this host. */
function rulesForHost(rules: ExceptionRule[], h: HostInfo): ExceptionRule[] {
  return rules.filter(
    (r) =>
      (r.scope.host === undefined || r.scope.host === h.hostname) &&
      (r.scope.group === undefined || r.scope.group === h.grp) &&
      (r.scope.tag === undefined || h.tags.includes(r.scope.tag)),
  );
}

/** Counts a host's held exposures back in (before a change), remembering which rule held each. */
function lift(store: Store, h: HostInfo, delta: CountDelta): Map<number, Held> {
  const held = new Map<number, Held>();
  for (const e of store.all<OpenExposure>(
    `SELECT vuln_id, src_id, lead_name_id, lead_pkg_id, severity, fixable, opened_at, exception_id, exception_severity
     FROM exposures WHERE host_id = ? AND +exception_id IS NOT NULL AND open = 1`,
    h.id,
  )) {
    held.set(exposureIdentity(e.src_id, e.vuln_id), { ruleId: e.exception_id!, baseline: e.exception_severity! });
    delta.add(e, 1);
  }
  if (held.size > 0) delta.heldBefore = heldByVuln(store, h.id);
  return held;
}

/** Why a rule no longer holds an exposure it held. */
function reopenCause(store: Store, ruleId: number, now: number): string {
  const r = exceptionById(store, ruleId);
  if (!r) return 'exception removed';
  const state = ruleState(r, now);
  return state === 'revoked'
    ? 'exception revoked'
    : state === 'expired'
      ? 'exception expired'
      : 'exception no longer applies';
}

/**
 * Applies the rules in force to a host's open exposures after `lift`: holds those a rule covers
 * (out of the counts), reopens those no rule holds any more (back in, with an event).
 */
function reapply(store: Store, h: HostInfo, held: Map<number, Held>, delta: CountDelta, agg: AggregateBatch): number {
  const now = store.clock.now();
  const rules = rulesForHost(activeRules(store, now), h);
  if (rules.length === 0 && held.size === 0) return 0;
  delta.applied = true;
  // Resolved exposures hold no rule (those that were held are all in `held`: only they can be).
  if (held.size > 0)
    store.run(
      'UPDATE exposures SET exception_id = NULL, exception_severity = NULL WHERE host_id = ? AND +exception_id IS NOT NULL AND open = 0',
      h.id,
    );
  const rows =
    rules.length === 0
      ? store.all<OpenExposure>(
          `SELECT vuln_id, src_id, lead_name_id, lead_pkg_id, severity, fixable, opened_at, exception_id, exception_severity
           FROM exposures WHERE host_id = ? AND +exception_id IS NOT NULL AND open = 1`,
          h.id,
        )
      : store.all<OpenExposure>(
          `SELECT vuln_id, src_id, lead_name_id, lead_pkg_id, severity, fixable, opened_at, exception_id, exception_severity
           FROM exposures WHERE host_id = ? AND +open = 1`,
          h.id,
        );
  const prepared = rules.map((r) => prepare(store, r));
  // The binary packages of each exposure, read once for the host, when a rule names a package.
  const binaries = rules.some((r) => r.scope.package !== undefined) ? openBinaries(store, h.id) : new Map();
  const reopened = new Map<string, number[]>();
  let changed = 0;
  for (const e of rows) {
    const key = exposureIdentity(e.src_id, e.vuln_id);
    const prev = held.get(key);
    const bins: number[] = binaries.get(key) ?? [];
    // Most exposures no rule can cover: told apart from ids already in memory.
    const candidates = prepared.filter((p) => mayCover(store, p, e, bins)).map((p) => p.rule);
    if (!prev && candidates.length === 0) continue;
    const target = targetOf(store, h, e, bins);
    let rule: ExceptionRule | undefined;
    let baseline = e.severity;
    const prevRule = prev && rules.find((r) => r.id === prev.ruleId);
    const exploitedAt = kevAddedAt(store, e.vuln_id);
    /** Known exploited since the rule was made: added to the catalogue on a later day (that day counts as known). */
    const exploitedSince = (r: ExceptionRule): boolean =>
      exploitedAt !== null && exploitedAt >= (dayOf(r.created_at) + 1) * DAY_MS;
    if (prev && prevRule && scopeMatches(prevRule.scope, target)) {
      if (
        stillCovers(prevRule, SEVERITIES[prev.baseline], SEVERITIES[e.severity]) &&
        (prevRule.cover_escalation || !exploitedSince(prevRule))
      ) {
        rule = prevRule;
        baseline = prev.baseline;
      }
    }
    if (!rule) {
      // A severity that rose since a rule took the exposure, or a vulnerability known exploited
      // since a rule was made: only rules that cover escalations take it.
      const rose = prev !== undefined && e.severity < prev.baseline;
      rule = ruleFor(
        candidates.filter((r) => r.cover_escalation || (!rose && !exploitedSince(r))),
        target,
      );
    }
    if (rule) {
      delta.add(e, -1);
      if (e.exception_id !== rule.id || e.exception_severity !== baseline) {
        store.run(
          'UPDATE exposures SET exception_id = ?, exception_severity = ? WHERE host_id = ? AND vuln_id = ? AND src_id = ?',
          rule.id,
          baseline,
          h.id,
          e.vuln_id,
          e.src_id,
        );
        changed++;
      }
      continue;
    }
    if (!prev) continue;
    // Back in the counts (lift counted it): reopened, with the reason.
    store.run(
      'UPDATE exposures SET exception_id = NULL, exception_severity = NULL, reopened = reopened + 1 WHERE host_id = ? AND vuln_id = ? AND src_id = ?',
      h.id,
      e.vuln_id,
      e.src_id,
    );
    const cause =
      e.severity < prev.baseline
        ? 'severity rose'
        : prevRule && exploitedSince(prevRule)
          ? 'known exploited'
          : reopenCause(store, prev.ruleId, now);
    const items = reopened.get(cause) ?? [];
    items.push(e.lead_name_id, e.vuln_id, e.lead_pkg_id, e.severity);
    reopened.set(cause, items);
    agg.reopened(h.grp, e.severity, now);
    changed++;
  }
  for (const [cause, items] of reopened) {
    store.run(
      'INSERT INTO events (at, type, host_id, cause, count, items) VALUES (?, ?, ?, ?, ?, ?)',
      now,
      'reopened',
      h.id,
      cause,
      items.length / 4,
      packItems(items),
    );
  }
  return changed;
}

/**
 * When the vulnerability was added to CISA's Known Exploited Vulnerabilities catalogue (ms, the
 * start of that day), as the server's vulnerability DB says; null when it is not in it (or the
 * server ranks nothing: no enrichment).
 */
function kevAddedAt(store: Store, vulnId: number): number | null {
  const kev = existingEnrichment(store)?.of(vulnId).kev;
  return kev ? Date.parse(`${kev.date_added}T00:00:00Z`) : null;
}

/** The vulnerability DB the held exposures were last checked against, per store. */
const checkedAgainst = new WeakMap<Store, string>();

/**
 * After a feed refresh (another vulnerability DB), the hosts with held exposures are checked
 * again: a vulnerability that became known exploited gives its findings back, though no finding
 * changed (a re-match leaves such hosts alone).
 */
function checkAfterFeeds(store: Store): void {
  const enrichment = existingEnrichment(store);
  if (!enrichment) return;
  const fingerprint = enrichment.fingerprint();
  if (checkedAgainst.get(store) === fingerprint) return;
  checkedAgainst.set(store, fingerprint);
  const hosts = store
    .all<{ host_id: number }>('SELECT DISTINCT host_id FROM exposures WHERE exception_id IS NOT NULL')
    .map((r) => r.host_id);
  if (hosts.length > 0) reconcileHosts(store, hosts);
}

/** A rule with the interned ids its scope names, for telling most exposures apart without reading them. */
interface PreparedRule {
  rule: ExceptionRule;
  /** The vulnerabilities its vulnerability names (itself, those it is an alias or advisory of); null: any. */
  vulns: Set<number> | null;
  /** Its package: the name, and the source package of that name if there is one. */
  pkg: { name: string; src: number | undefined } | null;
}

function prepare(store: Store, rule: ExceptionRule): PreparedRule {
  const { vulnerability, package: pkg } = rule.scope;
  return {
    rule,
    vulns: vulnerability === undefined ? null : new Set(store.interner.vulnsNamed(vulnerability)),
    pkg: pkg === undefined ? null : { name: pkg, src: store.interner.knownSrc(pkg) },
  };
}

/** Whether a rule may cover an exposure (scopeMatches decides): its vulnerability and package. */
function mayCover(store: Store, p: PreparedRule, e: OpenExposure, pkgIds: number[]): boolean {
  if (p.vulns && !p.vulns.has(e.vuln_id)) return false;
  if (!p.pkg || p.pkg.src === e.src_id) return true;
  const name = p.pkg.name;
  return pkgIds.some((id) => store.interner.pkg(id).pkg.name === name);
}

/** The installed packages of each open exposure of a host (by exposure identity). */
function openBinaries(store: Store, hostId: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const f of store.all<{ vuln_id: number; src_id: number; pkg_id: number }>(
    'SELECT vuln_id, src_id, pkg_id FROM findings WHERE host_id = ? AND +open = 1',
    hostId,
  )) {
    const key = exposureIdentity(f.src_id, f.vuln_id);
    const list = out.get(key);
    if (list) list.push(f.pkg_id);
    else out.set(key, [f.pkg_id]);
  }
  return out;
}

/** What an exposure offers the rules: its vulnerability's names, its packages, its host. */
function targetOf(store: Store, h: HostInfo, e: OpenExposure, pkgIds: number[]): ExceptionTarget {
  const i = store.interner;
  const binaries = pkgIds.map((id) => i.pkg(id).pkg);
  const lead = i.pkg(e.lead_pkg_id).pkg;
  return {
    vulnIds: [i.vuln(e.vuln_id), ...i.aliases.of(e.vuln_id)],
    packages: [lead, ...binaries].flatMap((p) => [
      { name: p.name, version: p.version },
      { name: p.source || p.name, version: p.source_version || p.version },
    ]),
    hostname: h.hostname,
    group: h.grp,
    tags: h.tags,
  };
}

/**
 * applyFindings (history.ts) with the exception rules kept right: the host's held exposures are
 * counted back in first, so the diff's counts stay true, and the rules applied again after.
 */
export function applyFindingsWithExceptions(
  store: Store,
  ctx: DiffContext,
  next: Map<number, StoredFinding>,
  scope: 'all' | Set<number>,
): DiffCounts {
  const h = hostInfo(store, ctx.hostId);
  if (!h) return applyFindings(store, ctx, next, scope);
  const delta = new CountDelta(h, ctx.agg);
  const held = lift(store, h, delta);
  const counts = applyFindings(store, ctx, next, scope);
  reapply(store, h, held, delta, ctx.agg);
  delta.write(store);
  return counts;
}

/**
 * Counts a host's held exposures back into the open ages and lets go of them, without events:
 * before the host is removed (its removal resolves every open exposure it has).
 */
export function releaseHost(store: Store, hostId: number, agg: AggregateBatch): void {
  const h = hostInfo(store, hostId);
  if (!h) return;
  const delta = new CountDelta(h, agg);
  if (lift(store, h, delta).size === 0) return;
  store.run(
    'UPDATE exposures SET exception_id = NULL, exception_severity = NULL WHERE host_id = ? AND +exception_id IS NOT NULL',
    hostId,
  );
  delta.write(store);
}

/**
 * Applies the rules in force to the given hosts again: a rule made, revoked or expired; a host's group or tags
 * changed.
 */
export function reconcileHosts(store: Store, hostIds: Iterable<number>): number {
  let changed = 0;
  store.tx(() => {
    const agg = new AggregateBatch(store);
    for (const id of hostIds) {
      const h = hostInfo(store, id);
      if (!h) continue;
      const delta = new CountDelta(h, agg);
      const held = lift(store, h, delta);
      changed += reapply(store, h, held, delta, agg);
      delta.write(store);
    }
    agg.flush();
  });
  return changed;
}

/** The hosts a new rule may cover (narrowed by its host, group, tag and vulnerability). */
export function hostsInScope(store: Store, rule: ExceptionRule): number[] {
  const where: string[] = [];
  const params: string[] = [];
  if (rule.scope.host !== undefined) {
    where.push('h.hostname = ?');
    params.push(rule.scope.host);
  }
  if (rule.scope.group !== undefined) {
    where.push('h.grp = ?');
    params.push(rule.scope.group);
  }
  if (rule.scope.tag !== undefined) {
    where.push('EXISTS (SELECT 1 FROM json_each(h.tags) t WHERE t.value = ?)');
    params.push(rule.scope.tag);
  }
  if (rule.scope.vulnerability !== undefined) {
    const vulns = store.interner.vulnsNamed(rule.scope.vulnerability);
    if (vulns.length === 0) return [];
    where.push(`h.id IN (SELECT host_id FROM exposures WHERE vuln_id IN (${vulns.join(', ')}) AND open = 1)`);
  }
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  return store.all<{ id: number }>(`SELECT h.id FROM hosts h ${w}`, ...params).map((r) => r.id);
}

/** The hosts where a rule holds exposures now. */
export function hostsHeldBy(store: Store, ruleId: number): number[] {
  return store
    .all<{ host_id: number }>('SELECT DISTINCT host_id FROM exposures WHERE exception_id = ?', ruleId)
    .map((r) => r.host_id);
}

/**
 * Gives back the exposures of rules that ended (expired by now, or revoked), and after a feed
 * refresh those of vulnerabilities known exploited since their rule was made: run periodically
 * by the server and right after a revocation. The number of rules it ended.
 */
export function endDueExceptions(store: Store): number {
  checkAfterFeeds(store);
  const now = store.clock.now();
  const due = endedRules(store, now);
  if (due.length === 0) return 0;
  const hosts = new Set<number>();
  for (const r of due) for (const h of hostsHeldBy(store, r.id)) hosts.add(h);
  store.tx(() => {
    reconcileHosts(store, hosts);
    for (const r of due) markEnded(store, r.id, now);
  });
  return due.length;
}

export interface ExceptedSummary {
  /** Open exposures held by a rule. */
  excepted: number;
  /** Of those, held by rules that expire within `withinDays`. */
  expiring: number;
  active_rules: number;
  rules_expiring: number;
}

/** "excepted: 42, 3 expire this week" for the fleet (or a group). */
export function exceptedSummary(store: Store, withinDays = 7, group?: string): ExceptedSummary {
  const now = store.clock.now();
  const soon = now + withinDays * 86_400_000;
  const g = group === undefined ? '' : 'AND h.grp = ?';
  const params = group === undefined ? [] : [group];
  const held = store.get<{ excepted: number; expiring: number | null }>(
    `SELECT count(*) AS excepted, sum(CASE WHEN x.expires_at IS NOT NULL AND x.expires_at <= ? THEN 1 ELSE 0 END) AS expiring
     FROM exposures e JOIN exceptions x ON x.id = e.exception_id JOIN hosts h ON h.id = e.host_id
     WHERE e.exception_id IS NOT NULL AND e.open = 1 ${g}`,
    soon,
    ...params,
  )!;
  const rules = store.get<{ active: number; expiring: number | null }>(
    `SELECT count(*) AS active, sum(CASE WHEN expires_at IS NOT NULL AND expires_at <= ? THEN 1 ELSE 0 END) AS expiring
     FROM exceptions WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
    soon,
    now,
  )!;
  return {
    excepted: held.excepted,
    expiring: held.expiring ?? 0,
    active_rules: rules.active,
    rules_expiring: rules.expiring ?? 0,
  };
}
