// AlmaLinux: the AlmaLinux OSV database (github.com/AlmaLinux/osv-database, or osv.dev's
// AlmaLinux all.zip). Records are ALSA/ALBA/ALEA advisories naming binary rpm packages with
// full E:V-R fixed versions; the severity and the module stream are in the summary
// ("Moderate: php:8.2 security update"). Bug-fix advisories that name no CVE are skipped.
// A repository's updateinfo.xml is read too (binary rpms with arches and module streams).
import type { FeedSource } from '../registry.ts';
import type { OsvImportSummary } from '../osv/import.ts';
import { importRhelFamily } from '../osv/rhel-family.ts';
import type { FeedImportContext } from '../registry.ts';

export async function importAlmaLinux(inputs: readonly string[], ctx: FeedImportContext): Promise<OsvImportSummary> {
  return importRhelFamily('almalinux', 'almalinux', inputs, ctx);
}

export const almalinuxFeed: FeedSource = {
  name: 'almalinux',
  description: 'AlmaLinux advisories (ALSA): OSV records and/or repository updateinfo.xml',
  defaultUrls: ['https://osv-vulnerabilities.storage.googleapis.com/AlmaLinux/all.zip'],
  async import(inputs, ctx) {
    await importAlmaLinux(inputs, ctx);
  },
};
