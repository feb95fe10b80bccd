// The RHEL rebuilds (AlmaLinux, Rocky Linux) publish the same two formats: the distribution's OSV
// records and the repositories' updateinfo.xml (errata with binary rpms, arches and module
// streams). One importer reads both for each of them; what tells them apart is data, one
// registry entry each (registry.ts). Both carry full E:V-R fixed versions; severity and module
// stream also come from the advisory summary ("Moderate: php:8.2 security update"). Bug-fix
// advisories that name no CVE are skipped.
import { textOf, type InputFile } from '../archive.ts';
import type { FeedImportContext, FeedSource } from '../registry.ts';
import { importOsv, type OsvImportSummary } from './import.ts';
import { looksLikeUpdateinfo, parseUpdateinfo } from '../common/updateinfo.ts';

const UPDATEINFO_NAME = /updateinfo[^/]*\.xml$/i;

/** What differs between two RHEL rebuilds' feeds. */
export interface RhelRebuild {
  /** The feed's name (`db update --source`). */
  name: string;
  /** The distribution id its entries are filed under: the OSV ecosystem's target (ecosystems.ts), os-release ID. */
  distro: string;
  description: string;
  defaultUrls: readonly string[];
}

export function rhelRebuildFeed(rebuild: RhelRebuild): FeedSource {
  return {
    name: rebuild.name,
    description: rebuild.description,
    defaultUrls: rebuild.defaultUrls,
    async import(inputs, ctx) {
      await importRhelFamily(rebuild.name, rebuild.distro, inputs, ctx);
    },
  };
}

export async function importRhelFamily(
  feed: string,
  distro: string,
  inputs: readonly string[],
  ctx: FeedImportContext,
): Promise<OsvImportSummary> {
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
        if (r.nonSecurity)
          notes.push(`${file.origin}: skipped ${r.nonSecurity} bug-fix/enhancement updates that name no CVE`);
        return { entries: r.entries, vulnerabilities: r.vulnerabilities, notes };
      },
    },
  });
}
