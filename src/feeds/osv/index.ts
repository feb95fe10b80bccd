// The generic OSV feed: any directory or archive of OSV records (osv.dev's per-ecosystem
// `all.zip`, a git checkout of a distribution's OSV repository, a tarball). Every
// distribution ecosystem patchloop scans is imported; language ecosystems are out of scope.
import type { FeedSource } from '../registry.ts';
import { importOsv } from './import.ts';

export const osvFeed: FeedSource = {
  name: 'osv',
  description: 'any OSV directory or archive (zip, tar, tar.gz, tar.xz): Debian, Ubuntu, AlmaLinux, Rocky, Alpine and Red Hat ecosystems',
  defaultUrls: [],
  async import(inputs, ctx) {
    await importOsv(inputs, ctx, { feed: 'osv', acceptTarget: () => true, consolidate: 'global' });
  },
};
