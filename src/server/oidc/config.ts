// The `oidc:` section of server.yaml: single sign-on with an OpenID Connect provider.
import { z } from 'zod';
import { ROLES } from '../store/users.ts';

/** The path the provider sends the browser back to (the redirect URI ends with it). */
export const CALLBACK_PATH = '/api/v1/auth/oidc/callback';

const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !u.hash && !u.username && !u.password;
  } catch {
    return false;
  }
}, 'an http(s) URL without fragment or credentials');

export const OidcConfigSchema = z
  .object({
    /** The provider's issuer identifier (its discovery document is at <issuer>/.well-known/openid-configuration). */
    issuer: httpUrl,
    client_id: z.string().min(1).max(500),
    /** A file holding the client secret (mode 0600 or 0640); without one the client is public (PKCE only). */
    client_secret_file: z.string().optional(),
    /** This server's callback as the provider knows it: https://<server>/api/v1/auth/oidc/callback. */
    // URL.parse: this check runs even when the one before it failed, so it must not throw on a non-URL.
    redirect_uri: httpUrl.refine(
      (s) => URL.parse(s)?.pathname === CALLBACK_PATH,
      `the redirect URI's path must be ${CALLBACK_PATH}`,
    ),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/))
      .default(['openid', 'profile', 'email'])
      .refine((s) => s.includes('openid'), 'scopes must include openid'),
    /** The claim naming the account (its first login makes the account). */
    username_claim: z.string().min(1).default('preferred_username'),
    /** The claim the role comes from (a string or a list; a dotted path reaches into objects: realm_access.roles). */
    role_claim: z.string().min(1).default('groups'),
    /**
     * Claim values and the role each gives; the highest role of all values counts. Empty: values named viewer, operator
     * or admin are roles.
     */
    role_map: z.record(z.string(), z.enum(ROLES)).default({}),
    /** The role of an identity whose claim maps to none; deny refuses the login. */
    default_role: z.enum([...ROLES, 'deny']).default('deny'),
    /** The login page's button. */
    label: z.string().min(1).max(100).default('Log in with single sign-on'),
    /**
     * false: only the built-in administrator logs in with a password (break-glass); everyone else through the provider.
     */
    local_login: z.boolean().default(true),
    /** A CA bundle (PEM) for a provider whose certificate is not signed by a public authority. */
    ca_file: z.string().optional(),
  })
  .strict();

export type OidcConfig = z.output<typeof OidcConfigSchema>;
