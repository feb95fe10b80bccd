// Read models derived from the whole store (the remediation roll-up, open exposures by priority
// class): read in pieces with the event loop free between them, so deriving one on a large
// fleet never holds up reports or other requests. A value is kept while the store is unchanged
// (SQLite's total_changes(), common.ts storeVersion) and its key is the same; when deriving it
// took more than a second, it is served up to a minute old while it is derived again in the
// background — on a large fleet the store changes with nearly every report, and nobody should
// wait seconds for a page because an agent just reported. Small fleets always get it fresh.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Store } from '../store/store.ts';
import { storeVersion } from './common.ts';

/** Deriving took longer than this: the value may be served while it is derived again. */
const SLOW_MS = 1000;
/** The oldest a slow value is served. */
const MAX_AGE_MS = 60_000;

export { yieldToEventLoop };

export class Derived<T> {
  private readonly store: Store;
  private readonly derive: () => Promise<T>;
  private value: { version: number; key: string; at: number; costMs: number; data: T } | null = null;
  private running: { key: string; promise: Promise<T> } | null = null;

  constructor(store: Store, derive: () => Promise<T>) {
    this.store = store;
    this.derive = derive;
  }

  /** The value; `key` names what else it depends on (the enrichment's generation). */
  async get(key = ''): Promise<T> {
    const v = this.value;
    if (v && v.key === key) {
      if (v.version === storeVersion(this.store)) return v.data;
      if (v.costMs > SLOW_MS && Date.now() - v.at < MAX_AGE_MS) {
        void this.refresh(key).catch(() => undefined);
        return v.data;
      }
    }
    return this.refresh(key);
  }

  private refresh(key: string): Promise<T> {
    if (this.running?.key === key) return this.running.promise;
    const version = storeVersion(this.store);
    const started = performance.now();
    // Started after the current request is answered: one served a value kept meanwhile does not wait.
    const promise = yieldToEventLoop()
      .then(() => this.derive())
      .then((data) => {
        this.value = { version, key, at: Date.now(), costMs: performance.now() - started, data };
        return data;
      });
    const running = { key, promise };
    this.running = running;
    const done = (): void => {
      if (this.running === running) this.running = null;
    };
    promise.then(done, done);
    return promise;
  }
}
