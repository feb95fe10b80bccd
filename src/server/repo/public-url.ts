// The server's address as hosts reach it, which install.sh writes into the host's repository
// configuration and enrolment: repo.public_url when configured (a proxy in front), else the
// scheme the server speaks and the Host header of the request. Both are checked strictly,
// because the value ends up in a shell script and in files under /etc.
import { z } from 'zod';

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** An http(s) origin: scheme, host and port, nothing else (no user, path, query or fragment). */
export function parsePublicUrl(value: string): string | null {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) return null;
  if (!HOST.test(u.host)) return null;
  return u.origin;
}

export const PublicUrlSchema = z.string().transform((v, ctx) => {
  const origin = parsePublicUrl(v.replace(/\/$/, ''));
  if (origin === null) {
    ctx.addIssue({
      code: 'custom',
      message: `expected the server's address as hosts reach it, e.g. https://central.example:8443 (got ${JSON.stringify(v)})`,
    });
    return z.NEVER;
  }
  return origin;
});

/**
 * The address from a request: the configured one, else scheme + Host header (null when the header is not a plain host).
 */
export function requestOrigin(
  configured: string | undefined,
  tls: boolean,
  hostHeader: string | undefined,
): string | null {
  if (configured) return configured;
  if (!hostHeader || !HOST.test(hostHeader)) return null;
  return parsePublicUrl(`${tls ? 'https' : 'http'}://${hostHeader}`);
}
