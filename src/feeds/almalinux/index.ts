// Placeholder until the almalinux importer lands.
import type { FeedSource } from '../registry.ts';

export const almalinuxFeed: FeedSource = {
  name: 'almalinux',
  description: '(not yet implemented)',
  defaultUrls: [],
  async import() {
    throw new Error('the almalinux feed is not implemented yet');
  },
};
