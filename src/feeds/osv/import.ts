// The OSV import pipeline every OSV-based feed shares: read the inputs' JSON members, validate
// each record, convert it, fold duplicate entries, write. Records are independent, so a bad one
// is skipped with a warning naming its file and id; an input with no OSV record at all is an
// error (it is not this feed's data, and the previous database must be kept).
import { createHash } from 'node:crypto';
import type { AdvisoryEntry, VulnerabilityInfo } from '../../core/types.ts';
import { InputError, jsonOf, readInputs, type InputFile } from '../archive.ts';
import type { FeedImportContext } from '../registry.ts';
import { convertRecord, newStats, type ConvertedEntry, type ConvertedRecord } from './convert.ts';
import type { EcosystemTarget } from './ecosystems.ts';
import { EntryBuffer } from '../common/entries.ts';
import { describeIssues } from '../common/issues.ts';
import { looksLikeOsv, osvRecordSchema } from './schema.ts';

const BARE_CVE = /^CVE-\d{4}-\d+$/;

export interface OsvImportOptions {
  /** Feed name written into every entry. */
  feed: string;
  /** Distributions this feed imports. */
  acceptTarget: (t: EcosystemTarget) => boolean;
  /**
   * Fold duplicate entries across the whole import (`global`: needed where one vulnerability's
   * fixes are spread over several records, as with ALSA/RLSA advisories) or within each
   * record only (`record`: per-CVE records, lower memory).
   */
  consolidate: 'global' | 'record';
  /** Last word on a record's entries before they are kept (Ubuntu: Pro pruning, VEX statuses). */
  refine?: (rec: ConvertedRecord) => ConvertedEntry[];
  /** Claims documents of another format that may sit beside the records (returns true when it did). */
  claimDocument?: (doc: unknown, file: InputFile) => boolean;
  /** Non-JSON files this feed also reads (updateinfo.xml), turned into entries; throws for a broken one. */
  extraFiles?: {
    accept: (name: string) => boolean;
    read: (file: InputFile) => { entries: AdvisoryEntry[]; vulnerabilities: VulnerabilityInfo[]; notes: string[] };
  };
}

export interface OsvImportSummary {
  files: number;
  records: number;
  invalid: number;
  withdrawn: number;
  duplicates: number;
  /** Identical copies of a record met again (AlmaLinux files an advisory under every release it covers). */
  copies: number;
  /** Derived records (USN…) whose upstream records were imported instead. */
  superseded: number;
  entries: number;
}

export async function importOsv(
  inputs: readonly string[],
  ctx: FeedImportContext,
  options: OsvImportOptions,
): Promise<OsvImportSummary> {
  const stats = newStats();
  const summary: OsvImportSummary = {
    files: 0,
    records: 0,
    invalid: 0,
    withdrawn: 0,
    duplicates: 0,
    copies: 0,
    superseded: 0,
    entries: 0,
  };
  /** Record id → where it was first read and a digest of its bytes. */
  const seen = new Map<string, { origin: string; digest: string }>();
  const held: { upstream: string[]; converted: ConvertedRecord }[] = [];
  const buffer = new EntryBuffer();
  let otherDocs = 0;
  let foreign = 0;

  const keep = (converted: ConvertedRecord): void => {
    const entries = options.refine ? options.refine(converted) : converted.entries;
    if (entries.length === 0) return;
    for (const e of entries) buffer.add(e.entry);
    for (const v of converted.vulnerabilities) ctx.writer.vulnerability(v);
    for (const c of converted.cvss) ctx.writer.cvss(c.vulnId, c.score);
    if (options.consolidate === 'record') summary.entries += buffer.flush(ctx.writer);
  };

  const isJson = (name: string): boolean => name.toLowerCase().endsWith('.json');
  const extra = options.extraFiles;
  const accept = extra ? (name: string) => isJson(name) || extra.accept(name) : isJson;
  for await (const file of readInputs(inputs, { accept })) {
    summary.files++;
    if (extra && !isJson(file.name) && extra.accept(file.name)) {
      try {
        const r = extra.read(file);
        for (const e of r.entries) buffer.add(e);
        for (const v of r.vulnerabilities) ctx.writer.vulnerability(v);
        for (const n of r.notes) ctx.warn(n);
        otherDocs++;
      } catch (err) {
        ctx.warn(`skipped ${file.origin}: ${(err as Error).message}`);
        summary.invalid++;
      }
      continue;
    }
    let doc: unknown;
    try {
      doc = jsonOf(file);
    } catch (err) {
      ctx.warn(`skipped ${(err as Error).message}`);
      summary.invalid++;
      continue;
    }
    if (options.claimDocument?.(doc, file)) {
      otherDocs++;
      continue;
    }
    if (!looksLikeOsv(doc)) {
      ctx.warn(`skipped ${file.origin}: not an OSV record (no "id"/"modified")`);
      foreign++;
      continue;
    }
    const parsed = osvRecordSchema.safeParse(doc);
    if (!parsed.success) {
      const id = (doc as { id?: unknown }).id;
      ctx.warn(
        `skipped ${file.origin}: record ${typeof id === 'string' ? id : '(no id)'} fails the OSV schema: ${describeIssues(parsed.error)}`,
      );
      summary.invalid++;
      continue;
    }
    const rec = parsed.data;
    if (rec.withdrawn) {
      summary.withdrawn++;
      continue;
    }
    const digest = createHash('sha1').update(file.data).digest('hex');
    const first = seen.get(rec.id);
    if (first !== undefined) {
      if (first.digest === digest) {
        summary.copies++;
      } else {
        ctx.warn(`skipped ${file.origin}: record ${rec.id} differs from the one read first from ${first.origin}`);
        summary.duplicates++;
      }
      continue;
    }
    seen.set(rec.id, { origin: file.origin, digest });
    summary.records++;
    const converted = convertRecord(rec, file.origin, {
      feed: options.feed,
      acceptTarget: options.acceptTarget,
      warn: ctx.warn,
      stats,
    });
    if (!converted) continue;
    // Records derived from other records of the same database (USN → UBUNTU-CVE, DSA →
    // DEBIAN-CVE) wait until every record has been seen; a bare CVE id as upstream is not a
    // record of the input.
    const upstreamRecords = (rec.upstream ?? []).filter((id) => !BARE_CVE.test(id));
    if (upstreamRecords.length) held.push({ upstream: upstreamRecords, converted });
    else keep(converted);
  }

  if (summary.records === 0 && otherDocs === 0) {
    const what =
      summary.files === 0
        ? 'no JSON files'
        : `${summary.files} file(s), none of them a valid OSV record${extra ? ' or updateinfo document' : ''}`;
    throw new InputError(`${inputs.join(', ')}: not ${options.feed} OSV data (${what})`);
  }

  // A derived record (a USN listing its UBUNTU-CVE records as upstream) adds nothing when its
  // upstream records were imported: they carry the same fixes and list it as related.
  for (const h of held) {
    if (h.upstream.some((id) => seen.has(id))) summary.superseded++;
    else keep(h.converted);
  }
  summary.entries += buffer.flush(ctx.writer);

  if (stats.unknownEcosystems.size) {
    ctx.warn(`skipped packages of ecosystems outside patchloop's scope: ${formatCounts(stats.unknownEcosystems)}`);
  }
  if (stats.skippedEcosystems.size) ctx.warn(`skipped packages of: ${formatCounts(stats.skippedEcosystems)}`);
  if (stats.nonSecurity) ctx.warn(`skipped ${stats.nonSecurity} bug-fix/enhancement advisories that name no CVE`);
  if (foreign) ctx.warn(`${foreign} JSON file(s) were not OSV records`);
  ctx.writer.meta('osv_records', String(summary.records));
  ctx.writer.meta('osv_withdrawn', String(summary.withdrawn));
  ctx.writer.meta('osv_invalid', String(summary.invalid));
  return summary;
}

function formatCounts(m: Map<string, number>): string {
  const parts = [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} (${n})`);
  return parts.length > 12 ? `${parts.slice(0, 12).join(', ')} and ${parts.length - 12} more` : parts.join(', ');
}
