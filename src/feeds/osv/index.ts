// Placeholder until the osv importer lands.
import type { FeedSource } from '../registry.ts';

export const osvFeed: FeedSource = {
  name: 'osv',
  description: '(not yet implemented)',
  defaultUrls: [],
  async import() {
    throw new Error('the osv feed is not implemented yet');
  },
};
