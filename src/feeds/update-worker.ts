// Entry of the worker thread in which the server updates one feed (update-thread.ts starts it):
// the import gets a heap of its own, bounded by the thread's resource limits, and the thread can
// be terminated at any point. Progress and the result go back as messages.
//
// One entry module that nothing imports: the build bundles it whole into
// dist/feed-update-worker.js (scripts/build); the single executable embeds a CommonJS build of it
// (scripts/package), hence no top-level await.
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { updateFeed } from './update.ts';
import type { UpdateWorkerMessage } from './update-thread.ts';

const port = parentPort;
if (!port) throw new Error('the feed update worker runs in a worker thread (see update-thread.ts)');
const post = (message: UpdateWorkerMessage): void => port.postMessage(message);

const job = z.object({ feed: z.string(), dataDir: z.string(), from: z.array(z.string()).optional() }).parse(workerData);
void updateFeed(job.feed, {
  dataDir: job.dataDir,
  from: job.from,
  onEvent: (event) => post({ type: 'event', event }),
}).then((result) => post({ type: 'result', result }));
