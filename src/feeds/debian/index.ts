// Placeholder until the debian importer lands.
import type { FeedSource } from '../registry.ts';

export const debianFeed: FeedSource = {
  name: 'debian',
  description: '(not yet implemented)',
  defaultUrls: [],
  async import() {
    throw new Error('the debian feed is not implemented yet');
  },
};
