// AlmaLinux and Rocky Linux read the same two formats: the distribution's OSV records and the
// repositories' updateinfo.xml (errata with binary rpms, arches and module streams).
import { textOf, type InputFile } from '../archive.ts';
import type { FeedImportContext } from '../registry.ts';
import { importOsv, type OsvImportSummary } from './import.ts';
import { looksLikeUpdateinfo, parseUpdateinfo } from './updateinfo.ts';

const UPDATEINFO_NAME = /updateinfo[^/]*\.xml$/i;

export async function importRhelFamily(feed: string, distro: string, inputs: readonly string[], ctx: FeedImportContext): Promise<OsvImportSummary> {
  return importOsv(inputs, ctx, {
    feed,
    acceptTarget: (t) => t.distro === distro,
    consolidate: 'global',
    extraFiles: {
      accept: (name) => UPDATEINFO_NAME.test(name),
      read: (file: InputFile) => {
        const xml = textOf(file);
        if (!looksLikeUpdateinfo(xml)) throw new Error('not an updateinfo document (no <updates>)');
        const r = parseUpdateinfo(xml, { feed, distro });
        const notes = r.problems.slice(0, 5).map((p) => `${file.origin}: ${p}`);
        if (r.problems.length > 5) notes.push(`${file.origin}: ${r.problems.length - 5} more problems`);
        if (r.nonSecurity) notes.push(`${file.origin}: skipped ${r.nonSecurity} bug-fix/enhancement updates that name no CVE`);
        return { entries: r.entries, vulnerabilities: r.vulnerabilities, notes };
      },
    },
  });
}
