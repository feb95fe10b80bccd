// Runs one feed update (update.ts) in a worker thread, for the server: the import has a heap of
// its own with a hard limit, so a huge or hostile input fails that update instead of exhausting
// the server's memory; a thread that runs past its time is terminated. Terminating a thread
// closes its databases, which releases the feed lock; the next update removes its temporary
// files. The worker's messages are checked before use: its file may be of another build.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { installedFile, isSingleExecutable, projectRoot } from '../project-root.ts';
import { failedUpdate, type FeedUpdateEvent, type FeedUpdateResult, type FeedUpdateOptions } from './update.ts';

export interface ThreadUpdateOptions extends FeedUpdateOptions {
  /** The update is abandoned (the thread terminated) after this long. */
  timeoutMs: number;
  /** The thread's heap limit (V8 old generation); an import that needs more fails. */
  heapLimitMb: number;
  /** Aborting terminates the thread; the result is a failure naming the reason. */
  signal?: AbortSignal;
}

const eventSchema = z.object({
  kind: z.enum(['progress', 'warning']),
  message: z.string(),
}) satisfies z.ZodType<FeedUpdateEvent>;
const resultSchema = z.object({
  feed: z.string(),
  status: z.enum(['updated', 'up_to_date', 'failed']),
  message: z.string(),
  database: z.object({ updated_at: z.string(), entries: z.number(), distros: z.array(z.string()) }).nullable(),
  imported: z.object({ entries: z.number(), vulnerabilities: z.number(), support: z.number() }).nullable(),
  seconds: z.number(),
  warnings: z.array(z.string()),
  warning_count: z.number(),
}) satisfies z.ZodType<FeedUpdateResult>;
const messageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('event'), event: eventSchema }),
  z.object({ type: z.literal('result'), result: resultSchema }),
]);

/** What the worker (update-worker.ts) posts: events while it runs, then one result. */
export type UpdateWorkerMessage = z.infer<typeof messageSchema>;

/**
 * The worker's entry: beside this module in the sources; in the bundle (where this code sits in
 * one of dist/'s chunks) the separately built dist/feed-update-worker.js.
 */
export function updateWorkerEntry(): URL {
  if (import.meta.url.endsWith('.ts')) return new URL('./update-worker.ts', import.meta.url);
  return pathToFileURL(join(projectRoot(), 'dist', 'feed-update-worker.js'));
}

/**
 * Starts the worker: from its entry file, or in the single executable (which has no files) from
 * the embedded asset dist/feed-update-worker.js, a self-contained CommonJS build run as eval code.
 */
function startUpdateWorker(options: WorkerOptions): Worker {
  if (!isSingleExecutable()) return new Worker(updateWorkerEntry(), options);
  const code = installedFile('dist/feed-update-worker.js');
  if (!code) throw new Error('this executable does not embed the feed update worker');
  return new Worker(code.toString('utf8'), { ...options, eval: true });
}

/**
 * Updates one feed in a worker thread. Never throws: a thread that fails, overruns or is stopped gives a `failed`
 * result.
 */
export function updateFeedInThread(name: string, options: ThreadUpdateOptions): Promise<FeedUpdateResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let result: FeedUpdateResult | null = null;
    let failure: string | null = null;
    let worker: Worker;
    try {
      worker = startUpdateWorker({
        workerData: { feed: name, dataDir: options.dataDir, from: options.from },
        resourceLimits: { maxOldGenerationSizeMb: options.heapLimitMb },
      });
    } catch (err) {
      resolve(failedUpdate(name, options.dataDir, `the update worker did not start: ${(err as Error).message}`, 0));
      return;
    }
    const stop = (why: string): void => {
      failure ??= why;
      void worker.terminate();
    };
    const timer = setTimeout(
      () => stop(`abandoned after ${Math.round(options.timeoutMs / 1000)} s`),
      options.timeoutMs,
    );
    const onAbort = (): void => stop('stopped: the server is shutting down');
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (raw: unknown) => {
      const message = messageSchema.safeParse(raw);
      if (!message.success)
        return stop(`the update worker sent a message this version does not read: ${message.error.issues[0]?.message}`);
      if (message.data.type === 'event') {
        options.onEvent?.(message.data.event);
        return;
      }
      result = message.data.result;
      // Done: the thread has released the feed lock already; end it without waiting for idle sockets.
      void worker.terminate();
    });
    worker.on('error', (err: Error & { code?: string }) => {
      failure ??=
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `the import needed more than its ${options.heapLimitMb} MB heap`
          : `the update worker failed: ${err.message}`;
    });
    // Only after the thread is gone are its lock and databases closed: then the caller may go on.
    worker.on('exit', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const seconds = (performance.now() - started) / 1000;
      if (result) resolve(result);
      else
        resolve(
          failedUpdate(
            name,
            options.dataDir,
            failure ?? `the update worker ended (exit code ${code}) without a result`,
            seconds,
          ),
        );
    });
  });
}
