// Rocky Linux: Rocky's OSV advisories (RLSA), as published to osv.dev. They name SOURCE rpm
// packages (key kind `source`), with E:V-R fixed versions; severity and module stream come
// from the summary as for AlmaLinux.
import type { FeedImportContext, FeedSource } from '../registry.ts';
import { importOsv, type OsvImportSummary } from '../osv/import.ts';

export async function importRocky(inputs: readonly string[], ctx: FeedImportContext): Promise<OsvImportSummary> {
  return importOsv(inputs, ctx, { feed: 'rocky', acceptTarget: (t) => t.distro === 'rocky', consolidate: 'global' });
}

export const rockyFeed: FeedSource = {
  name: 'rocky',
  description: 'Rocky Linux OSV advisories (RLSA), from a directory or archive of OSV records',
  defaultUrls: ['https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip'],
  async import(inputs, ctx) {
    await importRocky(inputs, ctx);
  },
};
