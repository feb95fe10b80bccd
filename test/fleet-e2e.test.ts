// End to end on loopback, with real processes only: `patchloop server run`, and agents
// (`patchloop agent enroll|run|flush`) reading copies of the real bookworm host root. Covers the
// first-start admin password, enrolment, full and delta reports, a server restart, a feed
// refresh that makes a new finding appear without any agent scanning, an upgrade that resolves
// a finding (fixed at the scan where it disappeared), and a server outage the spool rides out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyBookwormRoot, trackerFeedV1, trackerFeedV2, upgradeSource, writeFeedFile } from './support/fixtures.ts';
import { runCliFromSources } from './support/cli.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

const KERNEL = '6.1.0-40-amd64';

interface Session {
  cookie: string;
  csrf: string;
}

async function call(
  srv: ServerProcess,
  s: Session,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${srv.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      cookie: s.cookie,
      'x-csrf-token': s.csrf,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function login(srv: ServerProcess, password: string): Promise<Session> {
  const res = await fetch(`${srv.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { csrf_token: string };
  return {
    cookie: res.headers
      .getSetCookie()
      .find((c) => c.startsWith('patchloop_session='))!
      .split(';')[0],
    csrf: body.csrf_token,
  };
}

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('fleet end to end: enrol, report, restart, feed refresh, upgrade, outage', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-e2e-'));
  const dataDir = join(dir, 'server');
  mkdirSync(join(dir, 'feed'));
  const feed = writeFeedFile(join(dir, 'feed'), 'debian.json', trackerFeedV1());
  const imported = await runCliFromSources([
    'db',
    'update',
    '--source',
    'debian',
    '--from',
    feed,
    '--data-dir',
    dataDir,
  ]);
  assert.equal(imported.code, 0, imported.stderr);
  const config = join(dir, 'server.yaml');
  writeFileSync(
    config,
    `data_dir: ${dataDir}\nfeeds:\n  refresh_interval: 0\n  sources:\n    - name: debian\n      from: [${feed}]\n`,
  );

  let srv = await startServerProcess(['--config', config]);
  t.after(() => srv.stop('SIGKILL'));
  const listen = new URL(srv.url).host;
  const password = /with the password\n\n\s+(\S+)\n/.exec(srv.stderr())?.[1];
  assert.ok(password, `the first start shows the admin password:\n${srv.stderr()}`);
  assert.ok(!JSON.stringify(srv.logs()).includes(password), 'the password is not in the structured log');
  let admin = await login(srv, password);

  // Enrol two agents with one two-use token, read from stdin.
  const token = (await call(srv, admin, '/api/v1/enrollment-tokens', { name: 'e2e', uses: 2, group: 'web' })).body as {
    token: string;
  };
  const agents = ['web-a', 'web-b'].map((hostname) => ({
    hostname,
    root: copyBookwormRoot(),
    state: join(dir, `agent-${hostname}`),
  }));
  for (const a of agents) {
    const r = await runCliFromSources(
      [
        'agent',
        'enroll',
        '--server',
        srv.url,
        '--token',
        '-',
        '--hostname',
        a.hostname,
        '--state-dir',
        a.state,
        '--root',
        a.root,
      ],
      token.token,
    );
    assert.equal(r.code, 0, r.stderr);
  }
  const run = (a: (typeof agents)[number], cmd = 'run') =>
    runCliFromSources([
      'agent',
      cmd,
      '--state-dir',
      a.state,
      ...(cmd === 'run' ? ['--root', a.root, '--kernel', KERNEL, '--hostname', a.hostname] : ['--now']),
    ]);
  for (const a of agents) assert.equal((await run(a)).code, 0);

  type HostList = {
    total: number;
    items: { id: number; hostname: string; group: string; open: { total: number }; package_count: number }[];
  };
  const hosts = (await call(srv, admin, '/api/v1/hosts?sort=hostname')).body as HostList;
  assert.deepEqual(
    hosts.items.map((h) => [h.hostname, h.group, h.package_count, h.open.total]),
    [
      // Counted per vulnerability and source package: openssl, zlib and curl.
      ['web-a', 'web', 729, 3],
      ['web-b', 'web', 729, 3],
    ],
  );
  const hostA = hosts.items[0].id;

  // Restart: the store survives, the password is not shown again, sessions stay valid.
  assert.equal(await srv.stop('SIGTERM'), 0);
  srv = await startServerProcess(['--config', config], listen);
  assert.ok(!srv.stderr().includes('with the password'));
  admin = { ...admin };
  assert.equal((await call(srv, admin, '/api/v1/stats/overview')).status, 200);

  // A feed refresh brings CVE-2099-1003 (bash): it appears on both hosts with no agent involved.
  writeFeedFile(join(dir, 'feed'), 'debian.json', trackerFeedV2());
  const scansBefore = ((await call(srv, admin, `/api/v1/hosts/${hostA}`)).body as { recent_scans: unknown[] })
    .recent_scans.length;
  assert.equal((await call(srv, admin, '/api/v1/feeds/refresh', {})).status, 202);
  const refresh = await until('the refresh', async () => {
    const f = (await call(srv, admin, '/api/v1/feeds')).body as {
      refreshing: boolean;
      recent: { outcome: string | null; detected: number | null }[];
    };
    return !f.refreshing && f.recent[0]?.outcome ? f.recent[0] : null;
  });
  assert.equal(refresh.outcome, 'updated');
  assert.equal(refresh.detected, 2);
  const bash = (await call(srv, admin, '/api/v1/findings?vulnerability=CVE-2099-1003')).body as {
    total: number;
    items: { host: { hostname: string }; package: { name: string } }[];
  };
  assert.deepEqual(bash.items.map((f) => `${f.host.hostname} ${f.package.name}`).sort(), ['web-a bash', 'web-b bash']);
  const events = (await call(srv, admin, `/api/v1/hosts/${hostA}/history`)).body as {
    events: { type: string; vulnerability: string | null; cause: string }[];
    scans: unknown[];
  };
  assert.ok(
    events.events.some((e) => e.type === 'detected' && e.vulnerability === 'CVE-2099-1003' && e.cause === 'feed'),
  );
  assert.equal(events.scans.length, scansBefore, 'no agent scan was needed');

  // web-a upgrades openssl: its next report resolves CVE-2099-1001, fixed at that scan.
  upgradeSource(agents[0].root, 'openssl', '3.0.19-1~deb12u3');
  assert.equal((await run(agents[0])).code, 0);
  const detail = (await call(srv, admin, `/api/v1/hosts/${hostA}`)).body as {
    recent_scans: { id: number; kind: string; resolved: number }[];
  };
  const lastScan = detail.recent_scans[0];
  // openssl's three binaries: one exposure resolved.
  assert.deepEqual([lastScan.kind, lastScan.resolved], ['delta', 1]);
  const resolved = (await call(srv, admin, `/api/v1/hosts/${hostA}/findings?state=resolved`)).body as {
    items: {
      vulnerability: string;
      packages: { name: string }[];
      resolved_scan: number;
      resolved_at: string;
      resolved_cause: string;
    }[];
  };
  assert.equal(resolved.items.length, 1);
  assert.deepEqual(
    resolved.items[0].packages.map((p) => p.name),
    ['libssl-dev', 'libssl3', 'openssl'],
  );
  assert.ok(
    resolved.items.every(
      (f) =>
        f.vulnerability === 'CVE-2099-1001' &&
        f.resolved_scan === lastScan.id &&
        f.resolved_cause === 'scan' &&
        f.resolved_at,
    ),
  );
  const stillOpen = (await call(srv, admin, '/api/v1/findings?vulnerability=CVE-2099-1001')).body as {
    total: number;
    items: { host: { hostname: string } }[];
  };
  assert.deepEqual([...new Set(stillOpen.items.map((f) => f.host.hostname))], ['web-b']);
  const overview = (await call(srv, admin, '/api/v1/stats/overview')).body as {
    mttr_days: { high: number | null };
    open: { total: number };
    sla: { by_severity: { high: { resolved_90d: number } } };
  };
  // Each host: 3 exposures + bash; web-a resolved 1.
  assert.equal(overview.open.total, 2 * (3 + 1) - 1);
  assert.equal(overview.sla.by_severity.high.resolved_90d, 1);
  assert.notEqual(overview.mttr_days.high, null);

  // Outage: web-b's report is spooled (exit 75), then sent by a flush once the server is back.
  assert.equal(await srv.stop('SIGTERM'), 0);
  const spooled = await run(agents[1]);
  assert.equal(spooled.code, 75, spooled.stderr);
  srv = await startServerProcess(['--config', config], listen);
  const flushed = await run(agents[1], 'flush');
  assert.equal(flushed.code, 0, flushed.stderr);
  const b = (await call(srv, admin, '/api/v1/hosts?search=web-b')).body as HostList;
  const scansB = (await call(srv, admin, `/api/v1/hosts/${b.items[0].id}/history`)).body as {
    scans: { kind: string }[];
  };
  assert.deepEqual(
    scansB.scans.map((x) => x.kind),
    ['delta', 'full'],
  );
  assert.equal(await srv.stop('SIGTERM'), 0);
});
