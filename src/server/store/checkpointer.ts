// WAL checkpoints in a worker thread. SQLite's automatic checkpoint runs inside the commit
// that crosses the threshold, copying pages and fsyncing on the thread serving requests; here a
// second connection does it in the background (PASSIVE: it never blocks the writer), and the
// main connection's own automatic checkpoint stays only as a high backstop.
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.file);
db.exec('PRAGMA busy_timeout = 5000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const tick = () => {
  try {
    // PASSIVE never waits for the writer. Once a checkpoint has copied everything, the
    // writer's next transaction starts the WAL over (journal_size_limit trims the file).
    checkpoint.get();
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
};
const timer = setInterval(tick, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    tick();
    db.close();
    parentPort.close();
  }
});
`;

export class Checkpointer {
  private readonly worker: Worker;
  private readonly done: Promise<void>;

  constructor(file: string, everyMs: number, onError: (message: string) => void) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { file, everyMs } });
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error) onError(m.error);
    });
    this.worker.on('error', (err) => onError(err.message));
    this.done = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  async stop(): Promise<void> {
    this.worker.postMessage('stop');
    await this.done;
  }
}
