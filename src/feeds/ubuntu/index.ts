// Ubuntu: Canonical's OSV data (UBUNTU-CVE-* and USN-* records: the osv-all tarball or the
// ubuntu-security-notices repository), refined with Canonical's OpenVEX documents when they are
// among the inputs.
//
// - Key: source package; release: VERSION_ID (`22.04`); versions in dpkg order.
// - Severity: the Ubuntu priority (record `severity` of type "Ubuntu", or per CVE in a USN).
// - Ubuntu Pro: a fix published only in `Ubuntu:Pro:X.YY:LTS` (esm-infra / esm-apps) is a
//   `pro_only` entry: a host that is not attached stays affected and is not told to install
//   the +esm version. When the public archive has a fix, the Pro entry is dropped.
// - Unfixed packages: OSV only says "affected"; the VEX statement gives the tracker status
//   (needed → affected, ignored → will_not_fix, end of support → end_of_life, deferred →
//   fix_deferred, needs-triage → under_investigation).
// - A USN whose UBUNTU-CVE records are imported adds nothing (those records list it).
import { detectFormat, jsonOf, readInput, textOf } from '../archive.ts';
import type { FeedImportContext, FeedSource } from '../registry.ts';
import type { ConvertedEntry, ConvertedRecord } from '../osv/convert.ts';
import { importOsv, type OsvImportSummary } from '../osv/import.ts';
import { describeIssues } from '../common/issues.ts';
import { isOpenVex, openVexSchema, VexOverlay } from './vex.ts';

export interface UbuntuImportSummary extends OsvImportSummary {
  vexDocuments: number;
  vexStatuses: number;
  /** Unfixed entries whose status came from a VEX statement. */
  refinedByVex: number;
}

/** Reads the OpenVEX documents among the inputs (a first, cheap pass: OSV members are not parsed). */
async function readVex(inputs: readonly string[], ctx: FeedImportContext): Promise<VexOverlay> {
  const overlay = new VexOverlay();
  for (const input of inputs) {
    const isDirectory = (await detectFormat(input)) === 'directory';
    for await (const file of readInput(input)) {
      const head = textOf({ ...file, data: file.data.subarray(0, 512) });
      if (!/openvex/i.test(head)) {
        // An archive holds one kind of document (osv-all or vex-all): stop at the first OSV one.
        if (!isDirectory) break;
        continue;
      }
      let doc: unknown;
      try {
        doc = jsonOf(file);
      } catch (err) {
        ctx.warn(`skipped ${(err as Error).message}`);
        continue;
      }
      if (!isOpenVex(doc)) continue;
      const parsed = openVexSchema.safeParse(doc);
      if (!parsed.success) {
        ctx.warn(`skipped ${file.origin}: not a valid OpenVEX document: ${describeIssues(parsed.error)}`);
        continue;
      }
      overlay.add(parsed.data);
    }
  }
  return overlay;
}

const CVE_ID = /^CVE-\d{4}-\d+$/;

/** Pro entries give way to a public fix; an unfixed public entry gives way to a Pro fix. */
function prunePro(entries: ConvertedEntry[]): ConvertedEntry[] {
  const groups = new Map<string, ConvertedEntry[]>();
  for (const e of entries) {
    const k = `${e.entry.release}|${e.entry.package}|${e.entry.vuln_id}`;
    const g = groups.get(k);
    if (g) g.push(e);
    else groups.set(k, [e]);
  }
  const out: ConvertedEntry[] = [];
  for (const g of groups.values()) {
    const publicFix = g.some((e) => !e.fromPro && e.entry.fixed_version !== null);
    const proFix = g.some((e) => e.fromPro && e.entry.fixed_version !== null);
    for (const e of g) {
      if (e.fromPro && publicFix) continue;
      if (!e.fromPro && proFix && !publicFix && e.entry.fixed_version === null) continue;
      out.push(e);
    }
  }
  return out;
}

export async function importUbuntu(inputs: readonly string[], ctx: FeedImportContext): Promise<UbuntuImportSummary> {
  const overlay = await readVex(inputs, ctx);
  let refinedByVex = 0;
  let vexSeenAgain = 0;
  const refine = (rec: ConvertedRecord): ConvertedEntry[] => {
    const kept = prunePro(rec.entries);
    if (overlay.size === 0) return kept;
    for (const e of kept) {
      const entry = e.entry;
      if (entry.fixed_version !== null || entry.last_affected !== null || !CVE_ID.test(entry.vuln_id) || !e.purlDistro)
        continue;
      const st = overlay.get(entry.vuln_id, e.purlDistro, entry.package);
      if (!st) continue;
      entry.status = st.status;
      entry.raw_status = st.raw;
      refinedByVex++;
    }
    return kept;
  };
  const summary = await importOsv(inputs, ctx, {
    feed: 'ubuntu',
    acceptTarget: (t) => t.distro === 'ubuntu',
    // UBUNTU-CVE records are one per CVE: folding within a record is enough.
    consolidate: 'record',
    refine,
    claimDocument: (doc) => {
      if (!isOpenVex(doc)) return false;
      vexSeenAgain++;
      return true;
    },
  });
  if (vexSeenAgain > overlay.documents) {
    ctx.warn(
      `${vexSeenAgain - overlay.documents} OpenVEX document(s) sat after OSV records in an archive and were not applied: ` +
        'give the VEX archive as an input of its own (as Canonical publishes vex-all.tar.xz)',
    );
  }
  ctx.writer.meta('vex_documents', String(overlay.documents));
  return { ...summary, vexDocuments: overlay.documents, vexStatuses: overlay.size, refinedByVex };
}

export const ubuntuFeed: FeedSource = {
  name: 'ubuntu',
  description: "Canonical's Ubuntu OSV records (UBUNTU-CVE, USN), refined by Canonical's OpenVEX statuses when given",
  defaultUrls: [
    'https://security-metadata.canonical.com/osv/osv-all.tar.xz',
    'https://security-metadata.canonical.com/vex/vex-all.tar.xz',
  ],
  async import(inputs, ctx) {
    await importUbuntu(inputs, ctx);
  },
};
