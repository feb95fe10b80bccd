// What `db update` shows while a feed downloads and imports (feeds/update.ts FeedProgress).
import { counted } from '../../core/plural.ts';
import type { FeedProgress } from '../../feeds/update.ts';
import { formatBytes } from './bytes.ts';
import type { Progress } from './progress.ts';

export function showFeedProgress(progress: Progress, feed: string): (p: FeedProgress) => void {
  return (p) => {
    if (p.stage === 'download') {
      const of = p.total === null ? '' : ` of ${formatBytes(p.total)}`;
      progress.show(`${feed}: downloading ${p.url}: ${formatBytes(p.bytes)}${of}`, p.bytes === p.total);
    } else {
      progress.show(`${feed}: importing: ${counted(p.entries, 'entry', 'entries')}${p.done ? ', done' : ''}`, p.done);
    }
  };
}
