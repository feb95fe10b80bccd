// Placeholder until the alpine importer lands.
import type { FeedSource } from '../registry.ts';

export const alpineFeed: FeedSource = {
  name: 'alpine',
  description: '(not yet implemented)',
  defaultUrls: [],
  async import() {
    throw new Error('the alpine feed is not implemented yet');
  },
};
