// Red Hat Enterprise Linux (distro `rhel`): CSAF VEX documents (one per CVE, every status),
// CSAF advisories (RHSA, fixes) and Security Data API CVE documents, in any mix, from files,
// directories or archives (Red Hat publishes csaf_vex_*.tar.zst; unpack or re-pack it).
import { InputError, jsonOf, readInputs } from '../archive.ts';
import type { FeedImportContext, FeedSource } from '../registry.ts';
import { EntryBuffer } from '../common/entries.ts';
import { describeIssues } from '../common/issues.ts';
import { branchNestingProblem, convertCsaf, csafSchema, isCsaf } from './csaf.ts';
import { convertHydra, hydraSchema, isHydra } from './hydra.ts';

export interface RedHatImportSummary {
  files: number;
  csaf: number;
  hydra: number;
  entries: number;
  otherPlatforms: number;
}

export async function importRedHat(inputs: readonly string[], ctx: FeedImportContext): Promise<RedHatImportSummary> {
  const buffer = new EntryBuffer();
  const summary: RedHatImportSummary = { files: 0, csaf: 0, hydra: 0, entries: 0, otherPlatforms: 0 };
  for await (const file of readInputs(inputs)) {
    summary.files++;
    let doc: unknown;
    try {
      doc = jsonOf(file);
    } catch (err) {
      ctx.warn(`skipped ${(err as Error).message}`);
      continue;
    }
    if (isCsaf(doc)) {
      const tooDeep = branchNestingProblem(doc);
      if (tooDeep !== null) {
        ctx.warn(`skipped ${file.origin}: not a valid CSAF document: ${tooDeep}`);
        continue;
      }
      const parsed = csafSchema.safeParse(doc);
      if (!parsed.success) {
        ctx.warn(`skipped ${file.origin}: not a valid CSAF document: ${describeIssues(parsed.error)}`);
        continue;
      }
      summary.csaf++;
      const c = convertCsaf(parsed.data);
      for (const bad of c.invalidVersions.slice(0, 3))
        ctx.warn(`${file.origin} (${parsed.data.document.tracking.id}): skipped ${bad}`);
      summary.otherPlatforms += c.otherPlatforms;
      for (const e of c.entries) buffer.add(e);
      for (const v of c.vulnerabilities) ctx.writer.vulnerability(v);
      for (const s of c.cvss) ctx.writer.cvss(s.vulnId, s.score);
    } else if (isHydra(doc)) {
      const parsed = hydraSchema.safeParse(doc);
      if (!parsed.success) {
        ctx.warn(`skipped ${file.origin}: not a valid Red Hat CVE document: ${describeIssues(parsed.error)}`);
        continue;
      }
      summary.hydra++;
      const c = convertHydra(parsed.data);
      if (c.skipped.length)
        ctx.warn(
          `${file.origin} (${parsed.data.name}): skipped fixes without an rpm version: ${c.skipped.slice(0, 5).join(', ')}`,
        );
      summary.otherPlatforms += c.otherPlatforms;
      for (const e of c.entries) buffer.add(e);
      ctx.writer.vulnerability(c.vulnerability);
      if (c.cvss) ctx.writer.cvss(c.vulnerability.id, c.cvss);
    } else {
      ctx.warn(`skipped ${file.origin}: neither a CSAF document nor a Red Hat CVE document`);
    }
  }
  if (summary.csaf + summary.hydra === 0) {
    throw new InputError(
      `${inputs.join(', ')}: not Red Hat CSAF data (${summary.files} JSON file(s), none a CSAF or CVE document)`,
    );
  }
  summary.entries = buffer.flush(ctx.writer);
  if (summary.otherPlatforms)
    ctx.warn(
      `skipped ${summary.otherPlatforms} product statuses for other platforms than mainline RHEL (EUS, AUS, TUS, E4S, other products)`,
    );
  return summary;
}

export const redhatFeed: FeedSource = {
  name: 'redhat',
  description: 'Red Hat CSAF VEX and advisories (and Security Data API CVE documents) for RHEL',
  defaultUrls: [],
  async import(inputs, ctx) {
    await importRedHat(inputs, ctx);
  },
};
