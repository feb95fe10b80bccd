// The server's log destination: JSON lines to a file descriptor (stdout). While the
// destination works, each line is written at once (synchronously, as pino's own destination
// does). A log that cannot be written (a full disk, a quota, an I/O error, a full
// non-blocking pipe) never stops or kills the server: lines wait in a bounded buffer while the
// write is retried in the background, lines beyond the bound are dropped and counted, and when
// writing works again a line says how many were lost. A closed pipe (EPIPE) ends logging for
// good; the lines from then on are counted.
import { writeSync } from 'node:fs';

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
  private retryTimer: NodeJS.Timeout | null = null;
  private delay: number;
  private closed = false;
  private dropped = 0;
  /** Lines dropped since writing last worked. */
  private droppedUnreported = 0;
  private failing: string | null = null;
  /** Called once writing works again after a failure: the caller logs it (through the logger). */
  onRecovered: (dropped: number, error: string) => void = () => {};

  constructor(o: LogStreamOptions = {}) {
    this.fd = o.fd ?? 1;
    this.maxBuffered = o.maxBuffered ?? 4 * 1024 * 1024;
    this.retryMs = o.retryMs ?? 250;
    this.maxRetryMs = o.maxRetryMs ?? 2_000;
    this.delay = this.retryMs;
  }

  /** pino's destination interface. */
  write(line: string): boolean {
    if (this.closed) {
      this.drop(1);
      return true;
    }
    if (this.pendingBytes === 0 && this.failing === null) {
      const data = Buffer.from(line);
      const written = this.tryWrite(data);
      // The rest of a line cut by the error goes first when writing works again.
      if (written < data.length) {
        if (this.closed) this.drop(1);
        else this.enqueue(data.subarray(written));
      }
      return true;
    }
    if (this.pendingBytes + Buffer.byteLength(line) > this.maxBuffered) this.drop(1);
    else this.enqueue(Buffer.from(line));
    return true;
  }

  state(): LogStreamState {
    return { dropped: this.dropped, failing: this.failing, buffered: this.pendingBytes };
  }

  /** pino's logger.flush(): one more attempt at what is buffered (shutdown). */
  flush(cb?: (err?: Error) => void): void {
    if (this.pendingBytes > 0 && !this.closed) this.retry();
    cb?.();
  }

  private enqueue(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
  }

  private drop(lines: number): void {
    this.dropped += lines;
    this.droppedUnreported += lines;
  }

  /** Writes as much of `data` as the destination takes now; an error is recorded. Returns the bytes written. */
  private tryWrite(data: Buffer): number {
    let offset = 0;
    try {
      while (offset < data.length) offset += writeSync(this.fd, data, offset);
    } catch (err) {
      this.failed(err as NodeJS.ErrnoException);
    }
    return offset;
  }

  private retry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const error = this.failing;
    this.failing = null;
    const data = Buffer.concat(this.pending);
    const written = this.tryWrite(data);
    if (this.closed) return;
    this.pending = written < data.length ? [data.subarray(written)] : [];
    this.pendingBytes = data.length - written;
    if (this.failing === null && error !== null) {
      this.delay = this.retryMs;
      const dropped = this.droppedUnreported;
      this.droppedUnreported = 0;
      this.onRecovered(dropped, error);
    }
  }

  private failed(err: NodeJS.ErrnoException): void {
    const code = err.code ?? err.message;
    if (!RETRY.has(code)) {
      // EPIPE, EBADF: nobody reads any more. Stop writing; count instead.
      this.closed = true;
      this.failing = code;
      let lines = 0;
      for (const b of this.pending) for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
      this.drop(lines);
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    this.failing = code;
    if (this.retryTimer) return;
    const wait = code === 'EAGAIN' || code === 'EINTR' ? 10 : this.delay;
    if (wait === this.delay) this.delay = Math.min(this.delay * 2, this.maxRetryMs);
    this.retryTimer = setTimeout(() => this.retry(), wait);
    // A process that is otherwise done does not stay alive for its log.
    this.retryTimer.unref();
  }
}
