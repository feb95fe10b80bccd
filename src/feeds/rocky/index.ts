// Placeholder until the rocky importer lands.
import type { FeedSource } from '../registry.ts';

export const rockyFeed: FeedSource = {
  name: 'rocky',
  description: '(not yet implemented)',
  defaultUrls: [],
  async import() {
    throw new Error('the rocky feed is not implemented yet');
  },
};
