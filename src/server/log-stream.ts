// The server's log destination: JSON lines to a file descriptor (stdout), written in the
// background. A log that cannot be written (a full disk, a quota, an I/O error) never stops
// or kills the server: lines wait in a bounded buffer while the write is retried, lines beyond
// the bound are dropped and counted, and when writing works again a line says how many were
// lost. A closed pipe (EPIPE) ends logging for good; the lines from then on are counted.
import { write, writeSync } from 'node:fs';

export interface LogStreamOptions {
  fd?: number;
  /** Bytes kept while the destination fails; beyond that new lines are dropped. */
  maxBuffered?: number;
  /** Wait before retrying after a failed write (doubles up to maxRetryMs). */
  retryMs?: number;
  maxRetryMs?: number;
}

export interface LogStreamState {
  /** Lines dropped since the start (buffer full, or the destination closed). */
  dropped: number;
  /** The error of the last failed write while it still fails, else null. */
  failing: string | null;
  buffered: number;
}

/** Errors after which the write is retried (EAGAIN: a full pipe; the rest: space may come back). */
const RETRY = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'ENOSPC', 'EDQUOT', 'EFBIG', 'EIO']);

export class LogStream {
  private readonly fd: number;
  private readonly maxBuffered: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writing = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private delay: number;
  private closed = false;
  private dropped = 0;
  /** Lines dropped since the last report of drops. */
  private droppedUnreported = 0;
  private failing: string | null = null;
  /** Called once writing works again after drops: the caller logs it (through the logger). */
  onRecovered: (dropped: number, error: string | null) => void = () => {};

  constructor(o: LogStreamOptions = {}) {
    this.fd = o.fd ?? 1;
    this.maxBuffered = o.maxBuffered ?? 4 * 1024 * 1024;
    this.retryMs = o.retryMs ?? 250;
    this.maxRetryMs = o.maxRetryMs ?? 2_000;
    this.delay = this.retryMs;
  }

  /** pino's destination interface. */
  write(line: string): boolean {
    if (this.closed || this.pendingBytes + line.length > this.maxBuffered) {
      this.dropped++;
      this.droppedUnreported++;
      return true;
    }
    const b = Buffer.from(line);
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.writeNext();
    return true;
  }

  state(): LogStreamState {
    return { dropped: this.dropped, failing: this.failing, buffered: this.pendingBytes };
  }

  /** pino's logger.flush(): what is buffered, written now. */
  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    cb?.();
  }

  /** Writes what is buffered now, synchronously, as far as the destination takes it (shutdown). */
  flushSync(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.writing || this.closed) return;
    const data = Buffer.concat(this.pending);
    let offset = 0;
    try {
      while (offset < data.length) offset += writeSync(this.fd, data, offset);
    } catch {
      // the destination still fails: what is left is lost with the process
    }
    this.pending = offset < data.length ? [data.subarray(offset)] : [];
    this.pendingBytes = data.length - offset;
  }

  private writeNext(): void {
    if (this.writing || this.retryTimer || this.closed || this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [data];
    this.writing = true;
    write(this.fd, data, 0, data.length, null, (err, written) => {
      this.writing = false;
      if (err) {
        this.failed(err);
        return;
      }
      // A partial write (the disk filled up mid-line): the rest goes with the next write.
      const rest = data.subarray(written);
      this.pending = rest.length ? [rest, ...this.pending.slice(1)] : this.pending.slice(1);
      this.pendingBytes -= written;
      this.delay = this.retryMs;
      if (this.failing !== null || this.droppedUnreported > 0) {
        const dropped = this.droppedUnreported;
        const error = this.failing;
        this.failing = null;
        this.droppedUnreported = 0;
        this.onRecovered(dropped, error);
      }
      this.writeNext();
    });
  }

  private failed(err: NodeJS.ErrnoException): void {
    const code = err.code ?? err.message;
    if (!RETRY.has(code)) {
      // EPIPE, EBADF: nobody reads any more. Stop writing; count instead.
      this.closed = true;
      this.failing = code;
      this.dropped += this.countLines();
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    this.failing = code;
    const wait = code === 'EAGAIN' || code === 'EINTR' ? 10 : this.delay;
    if (wait === this.delay) this.delay = Math.min(this.delay * 2, this.maxRetryMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.writeNext();
    }, wait);
    // A process that is otherwise done does not stay alive for its log.
    this.retryTimer.unref();
  }

  private countLines(): number {
    let n = 0;
    for (const b of this.pending) for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
    return n;
  }
}
