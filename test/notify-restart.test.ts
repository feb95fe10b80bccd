// Notifications with the server as its own process: killed (SIGKILL) while a message is on its
// way and started again, no message is sent twice — the one cut off is dead-lettered as
// interrupted, the ones queued behind it go once each. Nothing the server logs holds a channel
// secret, failures included. `patchloop server notify test` sends from the configuration alone
// and refuses a secret file others may read.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInventory } from '../src/inventory/index.ts';
import { WebhookPayloadSchema } from '../src/server/api/notification-schemas.ts';
import { INTERRUPTED } from '../src/server/notify/queue.ts';
import { systemClock } from '../src/server/clock.ts';
import { createApiToken } from '../src/server/store/credentials.ts';
import { Store } from '../src/server/store/store.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { runCliFromSources } from './support/cli.ts';
import { secretFile, startHttpReceiver, type HttpReceiver } from './support/notify-receivers.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { api, fullReportOf } from './support/server.ts';
import { importDebianFeed } from './support/vulndb.ts';
import { until } from './support/until.ts';

const HOOK_SECRET = 'restart-hmac-key-never-logged';
const CHAT_TOKEN = 'T111/B222/chat-token-never-logged';
const RULES = ['one', 'two', 'three', 'four', 'five'];

const receivers: HttpReceiver[] = [];
const servers: ServerProcess[] = [];
after(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  for (const r of receivers) await r.close();
});

interface Message {
  id: number;
  state: string;
  rule: { name: string } | null;
  channel: string;
  last_error: string | null;
  delivery_id: string;
}

test(
  'killed mid-send and restarted: each message goes once, the interrupted one is dead-lettered; logs hold no secret',
  { timeout: 180_000 },
  async () => {
    const hooks = await startHttpReceiver();
    const chat = await startHttpReceiver();
    receivers.push(hooks, chat);
    chat.status = 503;
    const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-notify-restart-'));
    importDebianFeed(dataDir, trackerFeedV1());
    const config = join(dataDir, 'server.yaml');
    writeFileSync(
      config,
      [
        `data_dir: ${dataDir}`,
        'feeds: { refresh_interval: 0 }',
        'notifications:',
        '  interval: 200ms',
        '  retry_base: 200ms',
        '  retry_max: 400ms',
        '  max_attempts: 2',
        '  channels:',
        '    - name: hook',
        '      type: webhook',
        `      url_file: ${secretFile(dataDir, 'hook-url', `${hooks.url}/hook`)}`,
        `      secret_file: ${secretFile(dataDir, 'hook-secret', HOOK_SECRET)}`,
        '    - name: chat',
        '      type: slack',
        '      url_env: PATCHLOOP_TEST_CHAT_URL',
        '',
      ].join('\n'),
    );
    const env = { PATCHLOOP_TEST_CHAT_URL: `${chat.url}/services/${CHAT_TOKEN}` };
    // An API token of the built-in administrator, made before the first start.
    const store = Store.open(join(dataDir, 'server.sqlite'), systemClock);
    const token = createApiToken(store, 'notify-restart').token;
    store.close();

    let srv = await startServerProcess(['--config', config], '127.0.0.1:0', env);
    servers.push(srv);
    for (const name of RULES) {
      const r = await api(srv.url, '/api/v1/notifications/rules', {
        token,
        body: { name, trigger: 'new_finding', channels: ['hook'] },
      });
      assert.equal(r.status, 201, r.text);
    }
    // A channel that refuses (and names its URL in the refusal): failures are logged.
    const r = await api(srv.url, '/api/v1/notifications/rules', {
      token,
      body: { name: 'chat', trigger: 'new_finding', channels: ['chat'] },
    });
    assert.equal(r.status, 201, r.text);

    // The receiver holds the first message: the server is killed while it waits for the answer.
    hooks.hold = true;
    const enrol = await api(srv.url, '/api/v1/enrollment-tokens', { token, body: { name: 'restart' } });
    const host = await api(srv.url, '/api/v1/enroll', {
      body: { token: (enrol.body as { token: string }).token, hostname: 'restart-1' },
    });
    const hostToken = (host.body as { host_token: string }).host_token;
    const inv = await readInventory(BOOKWORM_ROOT, { kernel: '6.1.0-40-amd64' });
    const sent = await api(srv.url, '/api/v1/reports', {
      token: hostToken,
      body: fullReportOf(inv, 'restart-1'),
      gzip: true,
    });
    assert.equal(sent.status, 200, sent.text);
    await hooks.arrived(1);
    // The refusing channel's message is dead (both attempts made and recorded) before the kill.
    await until(async () => {
      const page = (await api(srv.url, '/api/v1/notifications/messages?channel=chat', { token })).body as {
        items: Message[];
      };
      return page.items.length === 1 && page.items[0].state === 'dead';
    }, 'the chat channel tried twice');
    assert.equal(chat.received.length, 2);
    const firstRun = { logs: srv.logs(), stderr: srv.stderr() };
    await srv.stop('SIGKILL');

    hooks.hold = false;
    hooks.release();
    srv = await startServerProcess(['--config', config], '127.0.0.1:0', env);
    servers.push(srv);
    await hooks.arrived(RULES.length);
    const messages = async (): Promise<Message[]> =>
      ((await api(srv.url, '/api/v1/notifications/messages', { token })).body as { items: Message[] }).items;
    await until(
      async () => (await messages()).every((m) => m.state === 'sent' || m.state === 'dead'),
      'every message sent or dead',
    );
    const all = await messages();
    const hookMessages = all.filter((m) => m.channel === 'hook');
    assert.equal(hookMessages.length, RULES.length);
    const dead = hookMessages.filter((m) => m.state === 'dead');
    assert.equal(dead.length, 1, JSON.stringify(hookMessages));
    assert.equal(dead[0].last_error, INTERRUPTED);

    // What the receiver got: each delivery once, every rule's message, and the interrupted one
    // is the one that arrived while the first server was killed.
    const payloads = hooks.received.map((x) => {
      const ts = x.headers['x-patchloop-timestamp'] as string;
      const signature = `sha256=${createHmac('sha256', HOOK_SECRET).update(`${ts}.${x.body}`).digest('hex')}`;
      assert.equal(x.headers['x-patchloop-signature'], signature);
      return WebhookPayloadSchema.parse(JSON.parse(x.body));
    });
    const ids = payloads.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'no delivery twice');
    assert.deepEqual(payloads.map((p) => p.rule?.name).sort(), [...RULES].sort());
    assert.equal(payloads[0].id, dead[0].delivery_id);
    assert.equal(hooks.received.length, RULES.length);

    const chatMessages = all.filter((m) => m.channel === 'chat');
    assert.deepEqual(
      chatMessages.map((m) => m.state),
      ['dead'],
    );
    assert.match(chatMessages[0].last_error ?? '', /^HTTP 503: refused \[redacted\]$/);

    // Logs of both runs: the failures are there, the secrets are not.
    const lines = [...firstRun.logs, ...srv.logs()].map((l) => JSON.stringify(l));
    assert.ok(lines.some((l) => l.includes('notification failed; retried later')));
    assert.ok(lines.some((l) => l.includes('notification dead-lettered')));
    assert.ok(lines.some((l) => l.includes('dead-lettered') && l.includes('"messages":1')));
    const text = [...lines, firstRun.stderr, srv.stderr()].join('\n');
    for (const secret of [HOOK_SECRET, CHAT_TOKEN, '/services/', `${hooks.url}/hook`, 'hook-url'])
      assert.ok(!text.includes(secret), `the logs hold ${secret}`);
  },
);

test('patchloop server notify test: sends from the configuration; a secret file others may read is refused', async () => {
  const hooks = await startHttpReceiver();
  receivers.push(hooks);
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-notify-cli-'));
  const config = (secretMode: number): string => {
    const file = join(dir, `server-${secretMode.toString(8)}.yaml`);
    writeFileSync(
      file,
      [
        `data_dir: ${dir}`,
        'notifications:',
        '  channels:',
        '    - name: hook',
        '      type: webhook',
        `      url_file: ${secretFile(dir, 'hook-url', `${hooks.url}/cli-hook`)}`,
        `      secret_file: ${secretFile(dir, `hook-secret-${secretMode.toString(8)}`, HOOK_SECRET, secretMode)}`,
        '',
      ].join('\n'),
    );
    return file;
  };
  const ok = await runCliFromSources(['server', 'notify', 'test', 'hook', '--config', config(0o600)]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^hook: test message sent \(webhook/);
  assert.equal(hooks.received.length, 1);
  const p = WebhookPayloadSchema.parse(JSON.parse(hooks.received[0].body));
  assert.equal(p.kind, 'test');
  assert.equal(hooks.received[0].headers['x-patchloop-event'], 'test');

  const open = await runCliFromSources(['server', 'notify', 'test', 'hook', '--config', config(0o644)]);
  assert.equal(open.code, 2);
  assert.match(open.stderr, /can be read by others: chmod 600/);
  const unknown = await runCliFromSources(['server', 'notify', 'test', 'nope', '--config', config(0o600)]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no channel nope in notifications.channels \(configured: hook\)/);
  hooks.status = 500;
  const refused = await runCliFromSources(['server', 'notify', 'test', 'hook', '--config', config(0o600)]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /hook: not sent: HTTP 500: refused \[redacted\]/);
  assert.ok(!refused.stderr.includes('cli-hook'));
});

test('a server whose channel secret others may read does not start, and writes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-notify-start-'));
  const dataDir = join(dir, 'data');
  const config = join(dir, 'server.yaml');
  writeFileSync(
    config,
    [
      `data_dir: ${dataDir}`,
      'notifications:',
      '  channels:',
      '    - name: chat',
      '      type: slack',
      `      url_file: ${secretFile(dir, 'chat-url', 'https://chat.example.test/hooks/never-shown', 0o644)}`,
      '',
    ].join('\n'),
  );
  const r = await runCliFromSources(['server', 'run', '--config', config, '--listen', '127.0.0.1:0']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /notifications\.channels chat url: .*chat-url can be read by others: chmod 600/);
  assert.ok(!r.stderr.includes('never-shown'));
  assert.ok(!existsSync(join(dataDir, 'server.sqlite')), 'no store was made');
});
