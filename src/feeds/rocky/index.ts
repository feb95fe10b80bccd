// Rocky Linux: Rocky's OSV advisories (RLSA, as published to osv.dev) and the repositories'
// updateinfo.xml. The OSV records name SOURCE rpm packages (key kind `source`); updateinfo
// names the binary rpms with their arches and module streams (key kind `binary`). Both carry
// full E:V-R fixed versions; severity and module stream also come from the summary.
import type { FeedImportContext, FeedSource } from '../registry.ts';
import type { OsvImportSummary } from '../osv/import.ts';
import { importRhelFamily } from '../osv/rhel-family.ts';

export async function importRocky(inputs: readonly string[], ctx: FeedImportContext): Promise<OsvImportSummary> {
  return importRhelFamily('rocky', 'rocky', inputs, ctx);
}

export const rockyFeed: FeedSource = {
  name: 'rocky',
  description: 'Rocky Linux advisories (RLSA): OSV records and/or repository updateinfo.xml',
  defaultUrls: ['https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip'],
  async import(inputs, ctx) {
    await importRocky(inputs, ctx);
  },
};
