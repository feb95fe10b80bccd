// Placeholder until the ubuntu importer lands.
import type { FeedSource } from '../registry.ts';

export const ubuntuFeed: FeedSource = {
  name: 'ubuntu',
  description: '(not yet implemented)',
  defaultUrls: [],
  async import() {
    throw new Error('the ubuntu feed is not implemented yet');
  },
};
