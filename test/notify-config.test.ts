// The notifications section of server.yaml, read from real files: mistakes are named with the
// file and line; channel secrets come from files only their owner (or group) may read, or from
// the environment, and a channel is built only with its secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigFile } from '../src/config/load.ts';
import { resolveConfig } from '../src/server/config.ts';
import type { z } from 'zod';
import { createChannel } from '../src/server/notify/channels/index.ts';
import type { ChannelConfigSchema } from '../src/server/notify/config.ts';
import { secretFile } from './support/notify-receivers.ts';

const dir = mkdtempSync(join(tmpdir(), 'patchloop-notify-config-'));

function load(name: string, yaml: string) {
  const file = join(dir, name);
  writeFileSync(file, `data_dir: ${dir}\n${yaml}`);
  return () => resolveConfig(readConfigFile(file)).notifications;
}

test('defaults: no channels, retries and digest time set', () => {
  const n = load('empty.yaml', '')();
  assert.deepEqual(n.channels, []);
  assert.equal(n.max_attempts, 8);
  assert.equal(n.retry_base, 30_000);
  assert.equal(n.digest_at, '08:00');
});

test('mistakes are named at their line', () => {
  const cases: [string, RegExp][] = [
    [
      'notifications:\n  channels:\n    - { name: a, type: slack }\n',
      /both\.yaml:4: notifications\.channels\.0: url_file or url_env is required/,
    ],
    [
      'notifications:\n  channels:\n    - { name: a, type: webhook, url_file: /x, url_env: X, secret_env: S }\n',
      /give url_file or url_env, not both/,
    ],
    [
      'notifications:\n  channels:\n    - { name: a, type: smtp, host: h, from: a@b, to: [c@d], password_env: P }\n',
      /a password needs a username/,
    ],
    [
      'notifications:\n  channels:\n    - { name: a, type: slack, url_env: A }\n    - { name: a, type: teams, url_env: B }\n',
      /channel a is defined twice/,
    ],
    ['notifications:\n  digest_at: "8am"\n', /both\.yaml:3: notifications\.digest_at: HH:MM \(UTC\)/],
    [
      'notifications:\n  channels:\n    - { name: Bad Name, type: slack, url_env: A }\n',
      /notifications\.channels\.0\.name/,
    ],
    ['notifications:\n  channels:\n    - { name: a, type: pager, url_env: A }\n', /notifications\.channels\.0\.type/],
    ['notifications:\n  channels:\n    - { name: a, type: slack, url: "https://x" }\n', /Unrecognized key: "url"/],
  ];
  for (const [yaml, message] of cases) assert.throws(load('both.yaml', yaml), message, yaml);
});

test('secrets: from a 0600 or 0640 file or the environment; a file others may read, an unset variable or a bad URL refused', () => {
  const config = (c: z.input<typeof ChannelConfigSchema>) =>
    resolveConfig({ data_dir: dir, notifications: { channels: [c] } }).notifications.channels[0];
  const url = secretFile(dir, 'url', 'https://hooks.example.test/services/T1/B2/secret-token');
  const grp = secretFile(dir, 'url-640', 'https://hooks.example.test/services/T1/B2/secret-token', 0o640);
  const open = secretFile(dir, 'url-644', 'https://hooks.example.test/services/T1/B2/secret-token', 0o644);
  const bad = secretFile(dir, 'url-bad', 'not a url with secret-token');
  assert.equal(createChannel(config({ name: 'a', type: 'slack', url_file: url })).type, 'slack');
  assert.equal(createChannel(config({ name: 'a', type: 'teams', url_file: grp })).type, 'teams');
  assert.throws(
    () => createChannel(config({ name: 'a', type: 'slack', url_file: open })),
    /notifications\.channels a url: .*url-644 can be read by others: chmod 600/,
  );
  assert.throws(
    () => createChannel(config({ name: 'a', type: 'slack', url_env: 'PATCHLOOP_NOT_SET' }), {}),
    /the environment variable PATCHLOOP_NOT_SET is not set/,
  );
  const env = { HOOK: 'https://hooks.example.test/x', KEY: 'k' };
  const hook = createChannel(config({ name: 'w', type: 'webhook', url_env: 'HOOK', secret_env: 'KEY' }), env);
  assert.equal(hook.type, 'webhook');
  assert.ok(!hook.summary.includes('hooks.example.test'));
  assert.throws(
    () => createChannel(config({ name: 'a', type: 'slack', url_file: bad })),
    (err: Error) => /the url is not an http\(s\) URL/.test(err.message) && !err.message.includes('secret-token'),
  );
  const smtp = createChannel(
    config({
      name: 'm',
      type: 'smtp',
      host: 'smtp.example.test',
      username: 'u',
      password_env: 'PW',
      from: 'a@example.test',
      to: ['b@example.test'],
    }),
    { PW: 'smtp-secret' },
  );
  assert.equal(smtp.summary, 'e-mail via smtp.example.test:587 (starttls, as u) to b@example.test');
  smtp.close();
});
