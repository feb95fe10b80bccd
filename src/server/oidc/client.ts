// Single sign-on with OpenID Connect, by openid-client: the authorisation code flow with PKCE,
// a state and a nonce per login, and the ID token's signature checked against the provider's
// JWKS (besides issuer, audience, expiry and nonce). The provider's metadata is discovered at
// the first login (and again after a failure), so a provider that is down does not stop the
// server from starting.
//
// A login in progress is kept in memory for ten minutes, keyed by its state, and bound to the
// browser that started it by a random cookie whose hash it keeps: a callback with an unknown
// state, a state used before, or a state from another browser is refused.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as oidc from 'openid-client';
import { fetch as undiciFetch } from 'undici';
import { PatchloopError } from '../../core/errors.ts';
import { createPool } from '../../net/http.ts';
import { isRole, lesserRole, type Role } from '../store/users.ts';
import type { OidcConfig } from './config.ts';

/** How long a browser has between leaving for the provider and coming back. */
const PENDING_MS = 10 * 60_000;
/** Logins in progress kept at most: bounds what a flood of login starts can take. */
const MAX_PENDING = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;

interface Pending {
  nonce: string;
  verifier: string;
  browser: string;
  returnTo: string;
  expires: number;
}

/** What a login failure is called in the audit log and on the login page. */
export type SsoFailure =
  | 'unknown_state'
  | 'wrong_browser'
  | 'provider_error'
  | 'token_rejected'
  | 'provider_unreachable'
  | 'no_username'
  | 'no_role';

export class SsoError extends PatchloopError {
  readonly reason: SsoFailure;
  constructor(reason: SsoFailure, message: string, cause?: unknown) {
    super('PL_E_FORBIDDEN', message, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }
}

export interface SsoIdentity {
  issuer: string;
  subject: string;
  username: string;
  display_name: string | null;
  /** The role the claim maps to, or null when the login is to be refused. */
  role: Role | null;
  /** The role claim's values as the provider gave them (for the audit log). */
  claim_values: string[];
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Reads the client secret; a file others may read is refused (it is a credential). */
function readSecret(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw new PatchloopError('PL_E_CONFIG', `oidc.client_secret_file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (mode & 0o007)
    throw new PatchloopError(
      'PL_E_CONFIG',
      `oidc.client_secret_file ${file} can be read by others: chmod 600 (or 640 for the server's group)`,
    );
  const secret = readFileSync(file, 'utf8').trim();
  if (!secret) throw new PatchloopError('PL_E_CONFIG', `oidc.client_secret_file ${file} is empty`);
  return secret;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The value at a dotted path of the claims (realm_access.roles), or undefined. */
function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let v: unknown = claims;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function claimValues(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** The highest role the claim's values map to; the default role when none does (null: deny). */
export function roleFromClaim(values: string[], c: Pick<OidcConfig, 'role_map' | 'default_role'>): Role | null {
  const mapped: Role[] = [];
  const direct = Object.keys(c.role_map).length === 0;
  for (const v of values) {
    const r = direct ? v : c.role_map[v];
    if (isRole(r)) mapped.push(r);
  }
  if (mapped.length > 0) return mapped.reduce((a, b) => (lesserRole(a, b) === a ? b : a));
  return c.default_role === 'deny' ? null : c.default_role;
}

/** An openid-client error with what it wraps (its own message often does not say which claim or check failed). */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (
    let e = err as (Error & { code?: string; cause?: unknown }) | undefined, depth = 0;
    e instanceof Error && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    parts.push(`${e.message}${e.code ? ` [${e.code}]` : ''}`);
  }
  return parts.join(': ');
}

export class OidcClient {
  private readonly c: OidcConfig;
  private readonly secret: string | null;
  private configuration: Promise<oidc.Configuration> | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly now: () => number;

  constructor(c: OidcConfig, now: () => number) {
    this.c = c;
    this.now = now;
    this.secret = c.client_secret_file ? readSecret(c.client_secret_file) : null;
  }

  get label(): string {
    return this.c.label;
  }

  /** The provider's metadata and this client, discovered once; a failed discovery is tried again at the next login. */
  private discover(): Promise<oidc.Configuration> {
    if (!this.configuration) {
      const issuer = new URL(this.c.issuer);
      const pool = createPool({ caFile: this.c.ca_file });
      const fetchVia: oidc.CustomFetch = (url, options) =>
        undiciFetch(url, {
          ...options,
          dispatcher: pool,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
      const execute = [oidc.enableNonRepudiationChecks];
      // Plain http only to a provider on this machine (tests, a provider behind a local proxy).
      if (issuer.protocol === 'http:' && isLoopback(issuer.host.replace(/:\d+$/, '')))
        execute.push(oidc.allowInsecureRequests);
      const auth = this.secret === null ? oidc.None() : oidc.ClientSecretBasic(this.secret);
      this.configuration = oidc
        .discovery(issuer, this.c.client_id, this.secret === null ? undefined : { client_secret: this.secret }, auth, {
          [oidc.customFetch]: fetchVia,
          execute,
        })
        .catch((err: unknown) => {
          this.configuration = null;
          throw new SsoError(
            'provider_unreachable',
            `the OpenID provider ${this.c.issuer} cannot be used: ${(err as Error).message}`,
            err,
          );
        });
    }
    return this.configuration;
  }

  /**
   * Starts a login: the provider's authorisation URL to send the browser to, and the cookie
   * value that binds the login to this browser.
   */
  async begin(returnTo: string): Promise<{ url: URL; browser: string; state: string }> {
    const config = await this.discover();
    this.sweep();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const browser = oidc.randomState();
    this.pending.set(state, {
      nonce,
      verifier,
      browser: sha256(browser).toString('base64url'),
      returnTo,
      expires: this.now() + PENDING_MS,
    });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.c.redirect_uri,
      scope: this.c.scopes.join(' '),
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, browser, state };
  }

  /**
   * Finishes a login at the callback: checks the state and the browser, exchanges the code
   * (with the PKCE verifier), verifies the ID token and maps its claims. The state is used up
   * whatever the outcome.
   */
  async finish(
    callbackQuery: string,
    browserCookie: string | undefined,
  ): Promise<{ identity: SsoIdentity; returnTo: string }> {
    const params = new URLSearchParams(callbackQuery);
    const state = params.get('state') ?? '';
    const p = this.pending.get(state);
    if (p) this.pending.delete(state);
    if (!p || p.expires < this.now())
      throw new SsoError('unknown_state', 'this login is unknown or expired (state): start again');
    const given = sha256(browserCookie ?? '').toString('base64url');
    if (given.length !== p.browser.length || !timingSafeEqual(Buffer.from(given), Buffer.from(p.browser))) {
      throw new SsoError('wrong_browser', 'this login was started in another browser: start again');
    }
    if (params.has('error')) {
      throw new SsoError(
        'provider_error',
        `the provider refused: ${params.get('error')}${params.get('error_description') ? ` (${params.get('error_description')})` : ''}`,
      );
    }
    const config = await this.discover();
    const current = new URL(this.c.redirect_uri);
    current.search = callbackQuery;
    let claims: Record<string, unknown>;
    let accessToken: string;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: p.verifier,
        expectedState: state,
        expectedNonce: p.nonce,
        idTokenExpected: true,
      });
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
      accessToken = tokens.access_token;
    } catch (err) {
      throw new SsoError('token_rejected', `the provider's answer was not accepted: ${describe(err)}`, err);
    }
    // The claims may leave the role or the name to the userinfo endpoint.
    let all = claims;
    if (claimAt(claims, this.c.role_claim) === undefined || claimAt(claims, this.c.username_claim) === undefined) {
      try {
        const info = await oidc.fetchUserInfo(config, accessToken, String(claims.sub));
        all = { ...info, ...claims };
      } catch {
        // No userinfo (or not this claim there either): decided below with what the ID token says.
      }
    }
    const username = claimAt(all, this.c.username_claim);
    if (typeof username !== 'string' || username === '')
      throw new SsoError('no_username', `the provider gave no ${this.c.username_claim} claim to name the account`);
    const values = claimValues(claimAt(all, this.c.role_claim));
    const name = claimAt(all, 'name');
    return {
      identity: {
        issuer: String(claims.iss),
        subject: String(claims.sub),
        username,
        display_name: typeof name === 'string' && name ? name.slice(0, 200) : null,
        role: roleFromClaim(values, this.c),
        claim_values: values.slice(0, 50),
      },
      returnTo: p.returnTo,
    };
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, v] of this.pending) if (v.expires < now) this.pending.delete(k);
    // Oldest first (a Map keeps insertion order).
    while (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  }
}
