// Placeholder until the redhat importer lands.
import type { FeedSource } from '../registry.ts';

export const redhatFeed: FeedSource = {
  name: 'redhat',
  description: '(not yet implemented)',
  defaultUrls: [],
  async import() {
    throw new Error('the redhat feed is not implemented yet');
  },
};
