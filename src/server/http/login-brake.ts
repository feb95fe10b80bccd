// The brake on password guessing, per account. Each login attempt is counted against three keys
// before the password is checked — the (address, account) pair, the address and the account
// (its name in lower case, as accounts are named without case) — so parallel
// attempts cannot slip past the count while a check is under way. A few failures are free; after
// them each key waits twice as long as before (1 s, 2 s, 4 s … up to 15 min) before the next
// attempt is checked at all; attempts inside the wait get 429 with Retry-After. A correct
// password after the wait still logs in, clears the pair and the account, and takes its attempt
// back from the address (so people sharing an address do not brake each other by logging in).
//
// So that someone sharing the administrator's address (or guessing from everywhere) cannot keep
// them out, a browser that has logged in before carries a signed device cookie; its attempts are
// counted against that device alone. `patchloop server unlock-logins` clears every brake of a
// running server (it writes a mark into the store that the next attempt reads).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.ts';

export interface BrakeLimits {
  /** Failures per key before waits start. */
  free: { pair: number; address: number; user: number; device: number };
  firstWaitMs: number;
  maxWaitMs: number;
  /** A key with no failure for this long is forgotten. */
  forgetAfterMs: number;
  /** Password checks (scrypt, 32 MiB each) running at once, over all callers. */
  maxConcurrentChecks: number;
}

export const DEFAULT_BRAKE: BrakeLimits = {
  free: { pair: 5, address: 20, user: 20, device: 5 },
  firstWaitMs: 1000,
  maxWaitMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
  maxConcurrentChecks: 8,
};

interface KeyState {
  failures: number;
  /** No attempt on this key is checked before this time. */
  notBefore: number;
  lastFailure: number;
}

export type Admission = { ok: true; attempt: Attempt } | { ok: false; retryAfterMs: number; reason: 'brake' | 'busy' };

export interface Attempt {
  /** The password was right: clears the user's keys and returns a device cookie value. */
  succeeded(): string;
  /** The password was wrong (already counted when admitted; this ends the attempt). */
  failed(): void;
}

/** Keys kept at most (each a few dozen bytes): bounds the memory a spray of addresses can take. */
const MAX_KEYS = 100_000;
const UNLOCK_META = 'login_brake_cleared_at';
const DEVICE_META = 'login_device_secret';

export class LoginBrake {
  private readonly keys = new Map<string, KeyState>();
  private readonly limits: BrakeLimits;
  private readonly store: Store;
  private readonly secret: Buffer;
  private checking = 0;
  private lastSweep = 0;
  private clearedAt: string | null;

  constructor(store: Store, limits: BrakeLimits = DEFAULT_BRAKE) {
    this.store = store;
    this.limits = limits;
    let secret = store.meta(DEVICE_META);
    if (!secret) {
      secret = randomBytes(32).toString('base64url');
      store.setMeta(DEVICE_META, secret);
    }
    this.secret = Buffer.from(secret);
    this.clearedAt = store.meta(UNLOCK_META) ?? null;
  }

  /** Asks to check a password. Counts the attempt on every key it touches before answering. */
  admit(address: string, username: string, deviceCookie: string | undefined): Admission {
    const now = this.store.clock.now();
    this.applyUnlock();
    this.sweep(now);
    const device = deviceCookie ? this.deviceOf(deviceCookie, username) : null;
    const keys: [string, number][] = device
      ? [[`device:${device}`, this.limits.free.device]]
      : [
          [`pair:${address}\0${username}`, this.limits.free.pair],
          [`address:${address}`, this.limits.free.address],
          [`user:${username}`, this.limits.free.user],
        ];
    let wait = 0;
    for (const [key] of keys) wait = Math.max(wait, (this.current(key, now)?.notBefore ?? 0) - now);
    if (wait > 0) return { ok: false, retryAfterMs: wait, reason: 'brake' };
    if (this.checking >= this.limits.maxConcurrentChecks) return { ok: false, retryAfterMs: 1000, reason: 'busy' };

    // Counted as a failure now; a success takes it back. Parallel attempts see the count at once.
    for (const [key, free] of keys) this.countFailure(key, free, now);
    this.checking++;
    let ended = false;
    const end = (): void => {
      if (!ended) this.checking--;
      ended = true;
    };
    return {
      ok: true,
      attempt: {
        succeeded: () => {
          end();
          for (const [key, free] of keys) {
            if (key.startsWith('address:')) this.uncount(key, free);
            else this.keys.delete(key);
          }
          return this.newDeviceCookie(username);
        },
        failed: end,
      },
    };
  }

  private countFailure(key: string, free: number, now: number): void {
    const s = this.current(key, now) ?? { failures: 0, notBefore: 0, lastFailure: now };
    s.failures++;
    s.lastFailure = now;
    if (s.failures >= free) {
      s.notBefore = now + this.waitAfter(s.failures, free);
    }
    this.keys.set(key, s);
  }

  /**
   * Takes back one attempt counted on an address that turned out right: the people behind one
   * address (an office) each log in to their own account without braking the others; only
   * failures add up there.
   */
  private uncount(key: string, free: number): void {
    const s = this.keys.get(key);
    if (!s) return;
    s.failures--;
    if (s.failures <= 0) this.keys.delete(key);
    else s.notBefore = s.failures >= free ? s.lastFailure + this.waitAfter(s.failures, free) : 0;
  }

  private waitAfter(failures: number, free: number): number {
    return Math.min(this.limits.maxWaitMs, this.limits.firstWaitMs * 2 ** Math.min(30, failures - free));
  }

  /** A key's state, or undefined once it has been quiet for forgetAfterMs. */
  private current(key: string, now: number): KeyState | undefined {
    const s = this.keys.get(key);
    if (s && now - s.lastFailure > this.limits.forgetAfterMs && s.notBefore <= now) {
      this.keys.delete(key);
      return undefined;
    }
    return s;
  }

  /** Drops forgotten keys once a minute, and the oldest when a spray from many addresses grows the map. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000 && this.keys.size <= MAX_KEYS) return;
    this.lastSweep = now;
    for (const k of [...this.keys.keys()]) this.current(k, now);
    if (this.keys.size > MAX_KEYS) {
      const byAge = [...this.keys].sort((a, b) => a[1].lastFailure - b[1].lastFailure);
      for (const [k] of byAge.slice(0, this.keys.size - MAX_KEYS / 2)) this.keys.delete(k);
    }
  }

  /** `patchloop server unlock-logins` writes a new mark; the running server clears on seeing it. */
  private applyUnlock(): void {
    const mark = this.store.meta(UNLOCK_META) ?? null;
    if (mark !== this.clearedAt) {
      this.clearedAt = mark;
      this.keys.clear();
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }

  private newDeviceCookie(username: string): string {
    const id = randomBytes(12).toString('base64url');
    return `${id}.${this.sign(`${id}\0${username}`)}`;
  }

  /** The device id of a valid cookie issued to this username, else null. */
  private deviceOf(cookie: string, username: string): string | null {
    const m = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
    if (!m) return null;
    const expected = Buffer.from(this.sign(`${m[1]}\0${username}`));
    const given = Buffer.from(m[2]);
    return expected.length === given.length && timingSafeEqual(expected, given) ? m[1] : null;
  }
}

/** Clears every login brake of the server using this store (the running one sees it at its next attempt). */
export function unlockLogins(store: Store): void {
  store.setMeta(UNLOCK_META, String(store.clock.now()) + ':' + randomBytes(4).toString('hex'));
}
