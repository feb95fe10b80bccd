// A real OpenID Connect provider (the npm oidc-provider package) on loopback for single sign-on
// tests, with its development login and consent pages (any login name is accepted; the accounts
// given here say which claims each name gets). Optionally behind a switchable front (`front`):
// the issuer is the front's address, and a test can send the authorisation and token requests
// to another provider while discovery and the JWKS stay this provider's.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Provider from 'oidc-provider';

export interface ProviderOptions {
  /** The relying party's redirect URI. */
  redirectUri: string;
  clientId?: string;
  clientSecret?: string;
  /** Login name → the claims that account has (sub is the login name). */
  accounts: Record<string, Record<string, unknown>>;
  /** Issuer to announce (default: this provider's own address). */
  issuer?: string;
}

export interface TestProvider {
  issuer: string;
  /** Where it listens (equals issuer unless another issuer was given). */
  url: string;
  clientId: string;
  clientSecret: string;
  /** A file with the client secret, mode 0600 (oidc.client_secret_file). */
  secretFile: string;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A port free now, for a server whose own address has to be configured before it starts. */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function startProvider(o: ProviderOptions): Promise<TestProvider> {
  const clientId = o.clientId ?? 'patchloop';
  const clientSecret = o.clientSecret ?? 'a-client-secret-of-the-test-provider';
  const http = createServer();
  const port = await listen(http);
  const url = `http://127.0.0.1:${port}`;
  const issuer = o.issuer ?? url;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [o.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'email', 'groups'],
    pkce: { required: () => true },
    cookies: { keys: ['test-provider-cookie-key'] },
    // Keys of its own (the package's development keys are the same for every instance).
    jwks: {
      keys: [
        {
          ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
          kid: `key-${port}`,
          use: 'sig',
          alg: 'RS256',
        },
      ],
    },
    findAccount: (_ctx, sub) => {
      const claims = o.accounts[sub];
      if (!claims) return undefined;
      return { accountId: sub, claims: () => ({ sub, ...claims }) };
    },
  });
  provider.proxy = false;
  http.on('request', provider.callback());
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-oidc-'));
  const secretFile = join(dir, 'client-secret');
  writeFileSync(secretFile, `${clientSecret}\n`, { mode: 0o600 });
  return {
    issuer,
    url,
    clientId,
    clientSecret,
    secretFile,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

export interface Front {
  url: string;
  /** Where authorisation, interaction and token requests go now (discovery and JWKS always to the first). */
  target: 'own' | 'other';
  close(): Promise<void>;
}

/**
 * A plain HTTP front for two providers: discovery (without the RFC 9207 `iss` promise, as many
 * providers publish it) and the JWKS from `own`, everything else from `target`.
 */
export async function startFront(): Promise<Front & { attach(own: string, other: string): void }> {
  let ownUrl = '';
  let otherUrl = '';
  const front = { url: '', target: 'own' as 'own' | 'other' };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const discovery = path.startsWith('/.well-known/');
    const base = discovery || path.startsWith('/jwks') || front.target === 'own' ? ownUrl : otherUrl;
    const upstream = new URL(path, base);
    // The Host header stays the front's: the providers build their URLs from it.
    const headers = { ...req.headers };
    if (discovery) delete headers['accept-encoding'];
    const p = httpRequest(upstream, { method: req.method, headers }, (up) => {
      if (!discovery) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        delete doc.authorization_response_iss_parameter_supported;
        const body = JSON.stringify(doc);
        res.writeHead(up.statusCode ?? 200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      });
    });
    p.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(p);
  });
  const port = await listen(server);
  front.url = `http://127.0.0.1:${port}`;
  return Object.assign(front, {
    attach(own: string, other: string) {
      ownUrl = own;
      otherUrl = other;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
