// A plain HTTP client that goes through a login as a browser does: follows redirects itself,
// keeps cookies per host and path, and fills and submits the forms of a provider's login and
// consent pages. No browser engine: what the server and the provider say is all there is.
import { request } from 'undici';

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export interface Step {
  method: string;
  url: string;
  status: number;
  location: string | null;
}

export class HttpBrowser {
  private readonly jar = new Map<string, Cookie[]>();
  /** Every request made, in order. */
  readonly steps: Step[] = [];

  /** The cookies this browser would send to a URL. */
  cookieHeader(url: URL): string {
    return (this.jar.get(url.host) ?? [])
      .filter(
        (c) =>
          url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) ||
          c.path === '/',
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.find((c) => c.name === name)?.value;
  }

  private keep(url: URL, setCookie: string | string[] | undefined): void {
    for (const line of setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) || '/';
      const expired = attrs.some(
        (a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()),
      );
      const list = (this.jar.get(url.host) ?? []).filter((c) => !(c.name === name && c.path === path));
      if (!expired && value !== '') list.push({ name, value, path });
      this.jar.set(url.host, list);
    }
  }

  /** One request; the answer's status, Location and body. */
  async send(
    method: string,
    url: string,
    form?: Record<string, string>,
  ): Promise<{ status: number; location: string | null; body: string; url: URL }> {
    const u = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html,application/json' };
    const cookies = this.cookieHeader(u);
    if (cookies) headers.cookie = cookies;
    let body: string | undefined;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await request(u, { method: method as 'GET', headers, body });
    this.keep(u, res.headers['set-cookie']);
    const text = await res.body.text();
    const location = typeof res.headers.location === 'string' ? new URL(res.headers.location, u).href : null;
    this.steps.push({ method, url: u.href, status: res.statusCode, location });
    return { status: res.statusCode, location, body: text, url: u };
  }

  /** Follows redirects from a first request until an answer that is not one (at most 20). */
  async follow(
    method: string,
    url: string,
    form?: Record<string, string>,
    stopAt?: (next: URL) => boolean,
  ): Promise<{ status: number; body: string; url: URL; location: string | null }> {
    let r = await this.send(method, url, form);
    for (let i = 0; r.location && r.status >= 300 && r.status < 400; i++) {
      if (i === 20) throw new Error(`too many redirects from ${url}`);
      if (stopAt?.(new URL(r.location))) return r;
      r = await this.send('GET', r.location);
    }
    return r;
  }

  /**
   * Goes through the provider's pages from an answer that shows one: fills the login form with
   * `login` (the development pages take any password), submits the consent form, and follows
   * the redirects; stops where `stopAt` says (before requesting that URL) or at a page without a form.
   */
  async throughProvider(
    page: { body: string; url: URL },
    login: string,
    stopAt?: (next: URL) => boolean,
  ): Promise<{ status: number; body: string; url: URL; location: string | null }> {
    let current: { status: number; body: string; url: URL; location: string | null } = {
      status: 200,
      location: null,
      ...page,
    };
    for (let i = 0; i < 5; i++) {
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(current.body);
      if (!form) return current;
      const fields: Record<string, string> = {};
      for (const m of form[2].matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi))
        fields[m[1]] = m[2];
      if (/name="login"/.test(form[2])) {
        fields.login = login;
        fields.password = 'any password';
      }
      current = await this.follow('POST', new URL(form[1].replace(/&amp;/g, '&'), current.url).href, fields, stopAt);
      if (current.location) return current;
    }
    throw new Error('the provider kept showing forms');
  }
}
