// CISA's Known Exploited Vulnerabilities catalogue (KEV): the CVEs known to be exploited in the
// wild, each with the day it was added, the day US federal agencies must remediate it by, and
// whether it is known to be used in ransomware campaigns. One JSON document
// (cisa.gov/…/known_exploited_vulnerabilities.json; its JSON Schema in cisagov/kev-data),
// validated here with zod. Its rows go to the kev table (vulndb/schema.ts): it names no
// package, so it covers no distribution and the matcher never reads it; findings are enriched
// from it by vulnerability id.
//
// - The document's frame (catalogVersion, dateReleased, count, vulnerabilities) must be
//   present and `count` must equal the entries given: a truncated or different document is
//   refused, and the previous catalogue stays.
// - An entry failing the schema is skipped with a warning naming its position and CVE.
// - knownRansomwareCampaignUse: `Known` → true, `Unknown` → false (CISA has no confirmation);
//   absent or another word → null.
import { z } from 'zod';
import { InputError, jsonOf, readInputs } from '../archive.ts';
import { describeIssues } from '../common/issues.ts';
import type { FeedImportContext, FeedSource } from '../registry.ts';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

const catalogueSchema = z.object({
  catalogVersion: z.string().min(1),
  dateReleased: z.string().min(1),
  count: z.number().int().nonnegative(),
  vulnerabilities: z.array(z.unknown()),
});

const vulnerabilitySchema = z.object({
  cveID: z.string().regex(/^CVE-\d{4}-\d{4,19}$/, 'expected a CVE id'),
  vendorProject: z.string(),
  product: z.string(),
  vulnerabilityName: z.string(),
  dateAdded: date,
  shortDescription: z.string(),
  requiredAction: z.string(),
  dueDate: date,
  knownRansomwareCampaignUse: z.string().optional(),
  notes: z.string().optional(),
  cwes: z.array(z.string()).optional(),
});

function ransomwareUse(word: string | undefined): boolean | null {
  const w = word?.trim().toLowerCase();
  return w === 'known' ? true : w === 'unknown' ? false : null;
}

export interface KevImportSummary {
  catalogVersion: string;
  entries: number;
  skipped: number;
}

/** Imports one or more catalogue documents (the last one naming a CVE wins). */
export async function importKev(inputs: readonly string[], ctx: FeedImportContext): Promise<KevImportSummary> {
  const summary: KevImportSummary = { catalogVersion: '', entries: 0, skipped: 0 };
  let documents = 0;
  for await (const file of readInputs(inputs)) {
    documents++;
    const frame = catalogueSchema.safeParse(jsonOf(file));
    if (!frame.success)
      throw new InputError(`${file.origin}: not a CISA KEV catalogue: ${describeIssues(frame.error)}`);
    const doc = frame.data;
    if (doc.count !== doc.vulnerabilities.length)
      throw new InputError(
        `${file.origin}: the catalogue says it holds ${doc.count} vulnerabilities but lists ${doc.vulnerabilities.length}: incomplete or altered`,
      );
    doc.vulnerabilities.forEach((raw, i) => {
      const v = vulnerabilitySchema.safeParse(raw);
      if (!v.success) {
        const cve = (raw as { cveID?: unknown } | null)?.cveID;
        ctx.warn(
          `${file.origin}: vulnerabilities[${i}]${typeof cve === 'string' ? ` (${cve})` : ''} skipped: ${describeIssues(v.error)}`,
        );
        summary.skipped++;
        return;
      }
      ctx.writer.kev({
        cve: v.data.cveID,
        date_added: v.data.dateAdded,
        due_date: v.data.dueDate,
        ransomware: ransomwareUse(v.data.knownRansomwareCampaignUse),
        vendor: v.data.vendorProject,
        product: v.data.product,
        name: v.data.vulnerabilityName,
        required_action: v.data.requiredAction,
      });
      summary.entries++;
    });
    summary.catalogVersion = doc.catalogVersion;
    ctx.writer.meta('catalog_version', doc.catalogVersion);
    ctx.writer.meta('date_released', doc.dateReleased);
  }
  if (documents === 0) throw new InputError(`no KEV catalogue (a .json file) in ${inputs.join(', ')}`);
  return summary;
}

export const kevFeed: FeedSource = {
  name: 'kev',
  description: 'CISA Known Exploited Vulnerabilities catalogue (JSON): CVEs exploited in the wild',
  defaultUrls: ['https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json'],
  async import(inputs, ctx) {
    await importKev(inputs, ctx);
  },
};
