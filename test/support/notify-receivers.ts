// Real receivers on loopback for notification tests: an HTTP endpoint that records what is
// posted to it (and answers with the status the test chooses), and an SMTP server (the npm
// smtp-server package) that requires STARTTLS before authentication, with a certificate made
// by openssl for 127.0.0.1.
import { makeCertificate } from './tls.ts';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpReceiver {
  /** Base URL; the path posted to is recorded. */
  url: string;
  received: Received[];
  /** The status of the next answers (default 200). */
  status: number;
  /** Holds every request until release() (tests of a server stopped mid-send). */
  hold: boolean;
  /** Resolves once `n` requests arrived (or are held). */
  arrived(n: number): Promise<void>;
  release(): void;
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const waiting: { n: number; resolve: () => void }[] = [];
  const held: (() => void)[] = [];
  let count = 0;
  const r: HttpReceiver = {
    url: '',
    received: [],
    status: 200,
    hold: false,
    arrived: (n) => (count >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve }))),
    release: () => held.splice(0).forEach((f) => f()),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      // Recorded on arrival: a request held and never answered (its sender killed) was received.
      r.received.push({ path: req.url ?? '', headers: req.headers, body });
      const status = r.status;
      // A refusal names the path, as some servers do: the sender must not repeat it (it is the secret).
      const answer = (): void => {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : `refused ${req.url}`);
      };
      count++;
      for (const w of waiting.filter((x) => count >= x.n)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
      if (r.hold) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return r;
}

export interface Mail {
  from: string;
  to: string[];
  /** The connection was upgraded with STARTTLS before the message. */
  secure: boolean;
  user: string | undefined;
  raw: string;
}

export interface SmtpReceiver {
  port: number;
  /** The certificate the server presents (PEM file), for the channel's ca_file. */
  certFile: string;
  mails: Mail[];
  /** Authentication attempts refused. */
  refusedLogins: number;
  close(): Promise<void>;
}

export async function startSmtpReceiver(o: {
  username: string;
  password: string;
  implicitTls?: boolean;
}): Promise<SmtpReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-smtp-'));
  const { cert, key } = makeCertificate(dir, 'smtp');
  const r: SmtpReceiver = { port: 0, certFile: cert, mails: [], refusedLogins: 0, close: async () => undefined };
  const server = new SMTPServer({
    secure: o.implicitTls ?? false,
    key: readFileSync(key),
    cert: readFileSync(cert),
    authMethods: ['PLAIN', 'LOGIN'],
    // No AUTH on a plain connection (the default): the client must have used STARTTLS.
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === o.username && auth.password === o.password) return callback(null, { user: auth.username });
      r.refusedLogins++;
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (raw += c));
      stream.on('end', () => {
        r.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((t) => t.address),
          secure: session.secure,
          user: session.user as string | undefined,
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  r.port = (server.server.address() as AddressInfo).port;
  r.close = () => new Promise((resolve) => server.close(() => resolve()));
  return r;
}

/** A secret file as an operator makes one: mode 0600. */
export function secretFile(dir: string, name: string, value: string, mode = 0o600): string {
  const file = join(dir, name);
  writeFileSync(file, `${value}\n`);
  chmodSync(file, mode);
  return file;
}
