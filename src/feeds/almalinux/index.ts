// AlmaLinux: the AlmaLinux OSV database (github.com/AlmaLinux/osv-database, or osv.dev's
// AlmaLinux all.zip). Records are ALSA/ALBA/ALEA advisories naming binary rpm packages with
// full E:V-R fixed versions; the severity and the module stream are in the summary
// ("Moderate: php:8.2 security update"). Bug-fix advisories that name no CVE are skipped.
import type { FeedSource } from '../registry.ts';
import { importOsv, type OsvImportSummary } from '../osv/import.ts';
import type { FeedImportContext } from '../registry.ts';

export async function importAlmaLinux(inputs: readonly string[], ctx: FeedImportContext): Promise<OsvImportSummary> {
  return importOsv(inputs, ctx, { feed: 'almalinux', acceptTarget: (t) => t.distro === 'almalinux', consolidate: 'global' });
}

export const almalinuxFeed: FeedSource = {
  name: 'almalinux',
  description: 'AlmaLinux OSV advisories (ALSA), from a directory or archive of OSV records',
  defaultUrls: ['https://osv-vulnerabilities.storage.googleapis.com/AlmaLinux/all.zip'],
  async import(inputs, ctx) {
    await importAlmaLinux(inputs, ctx);
  },
};
