// The policy editor in a real browser (Debian's chromium via playwright-core) against a real
// `patchloop server` process over a fleet built through the API: problems shown at the lines the
// server names for the same text, a preview of tonight equal to the server's, saving as the next
// version, the diff between versions, and a rollback that is audited. A viewer reads, never edits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, logIn } from './support/browser.ts';
import { buildFleet, startFleetServer, type Fleet } from './support/dashboard-fleet.ts';
import { REPO_ROOT } from './support/paths.ts';
import type { ServerProcess } from './support/server-process.ts';
import type { AuditPage, HostSummary, Page as ApiPage, PolicyPreview, StoredPolicy } from '../web/src/api/types.ts';

let dir: string;
let fleet: Fleet;
let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;

before(async () => {
  execFileSync('sh', [join(REPO_ROOT, 'scripts/build-web')], { stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'patchloop-policy-editor-'));
  fleet = await buildFleet(dir, { hosts: 12, days: 14, cves: 300, seed: 5, feedUpdates: 1 });
  server = await startFleetServer(fleet);
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  await logIn(page, server.url, fleet.password, '/policies');
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The API with the browser's own session (cookie and CSRF token of the page). */
async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const csrf = (await (await context.request.get(`${server.url}/api/v1/auth/session`)).json()) as {
    csrf_token: string;
  };
  const res = await context.request.fetch(`${server.url}${path}`, {
    method,
    data: body,
    headers: { 'x-csrf-token': csrf.csrf_token },
  });
  assert.ok(res.status() < 300, `${method} ${path}: ${res.status()} ${await res.text()}`);
  return (await res.json()) as T;
}

const editor = () => page.locator('textarea[name="policy-text"]');

/** Line numbers the gutter marks, and the lines the problem list names. */
async function markedLines(): Promise<{ gutter: number[]; listed: number[] }> {
  const gutter = await page
    .locator('.editor-gutter li.has-issue')
    .evaluateAll((els) => els.map((e) => Number(e.textContent)));
  const listed = await page
    .locator('.editor-issues li[data-issue-line]')
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-issue-line'))));
  return { gutter, listed };
}

const INVALID = [
  'group: web', // 1
  'description: Web front ends', // 2
  'schedule:', // 3
  '  windows:', // 4
  '    - days: [mon, tue]', // 5
  "      start: '25:00'", // 6
  "      end: '05:00'", // 7
  '      time_zone: Europe/Berlin', // 8
  'rings:', // 9
  '  - name: canary', // 10
  '    tags: [canary]', // 11
  '  - name: rest', // 12
  '    soak_hours: 24', // 13
  'reboot:', // 14
  '  mode: sometimes', // 15
  '  colour: red', // 16
  '',
].join('\n');

// Every day, the whole day: the window is open now, so the first ring patches tonight.
const EVERY_DAY = [
  'group: web',
  'description: Web front ends, every night',
  'schedule:',
  '  windows:',
  "    - start: '00:00'",
  "      end: '24:00'",
  '      time_zone: UTC',
  'rings:',
  '  - name: canary',
  '    tags: [canary]',
  '  - name: rest',
  '    soak_hours: 24',
  'reboot:',
  '  mode: when_required',
  '  max_concurrent: 3',
  '',
].join('\n');

test('the list of policies is the API’s, and a policy opens in the editor with its stored text', async () => {
  const list = await call<{ name: string; version: number }[]>('GET', '/api/v1/policies');
  await page.locator('table[data-table="policies"] tbody tr').first().waitFor();
  const names = await page.locator('table[data-table="policies"] [data-policy]').allTextContents();
  assert.deepEqual(
    names,
    list.map((p) => p.name),
  );
  assert.deepEqual(names.sort(), [...fleet.policies].sort());

  await page.locator('[data-policy="web"]').click();
  await editor().waitFor();
  const web = list.find((p) => p.name === 'web')!;
  await page.locator(`[data-version="${web.version}"]`).waitFor();
  const text = await editor().inputValue();
  assert.match(text, /^group: web$/m);
  assert.match(text, /time_zone: Europe\/Berlin/);
  await page.locator('[data-valid]').waitFor();
});

test('problems show at the lines the server names for the same text, as it is typed', async () => {
  await editor().fill(INVALID);
  await page.locator('.editor-issues').waitFor();
  const server = await call<PolicyPreview>('POST', '/api/v1/policies/web/preview', { text: INVALID });
  assert.equal(server.valid, false);
  const serverLines = [...new Set(server.issues.map((i) => i.line))].sort((a, b) => a! - b!);
  // The start time, the reboot mode and the unknown key, each on its own line.
  assert.deepEqual(serverLines, [6, 15, 16]);
  const { gutter, listed } = await markedLines();
  assert.deepEqual(gutter, serverLines);
  assert.deepEqual(
    [...new Set(listed)].sort((a, b) => a - b),
    serverLines,
  );
  const messages = await page.locator('.editor-issues li').allTextContents();
  assert.equal(messages.length, server.issues.length);
  for (const i of server.issues)
    assert.ok(
      messages.some((m) => m.includes(i.message)),
      i.message,
    );
  // Nothing invalid can be saved or previewed.
  assert.equal(await page.locator('[data-action="save"]').isDisabled(), true);
  assert.equal(await page.locator('[data-action="preview"]').isDisabled(), true);

  // A YAML syntax error: one problem at the parser's line.
  const broken = 'group: web\nrings:\n  - name: all\n    tags: [a, b\nreboot:\n  mode: never\n';
  await editor().fill(broken);
  const bs = await call<PolicyPreview>('POST', '/api/v1/policies/web/preview', { text: broken });
  assert.equal(bs.issues.length, 1);
  assert.ok(
    bs.issues[0].line !== null && bs.issues[0].line >= 4,
    `a line at or after the open list: ${bs.issues[0].line}`,
  );
  await page.locator(`.editor-gutter li.has-issue`).first().waitFor();
  assert.deepEqual((await markedLines()).gutter, [bs.issues[0].line]);

  // The first ring cannot soak: a problem the schema finds once the fields are right.
  const soak = EVERY_DAY.replace('    tags: [canary]\n', '    tags: [canary]\n    soak_hours: 5\n');
  await editor().fill(soak);
  await page.locator('.editor-issues').waitFor();
  assert.deepEqual((await markedLines()).gutter, [11]);
  assert.match((await page.locator('.editor-issues').textContent()) ?? '', /rings\[0\]\.soak_hours.*first ring/);
});

test('the preview of tonight is the server’s for every host of the group, beside the policy in force', async () => {
  await editor().fill(EVERY_DAY);
  await page.locator('[data-valid]').waitFor();
  await page.locator('[data-action="preview"]').click();
  await page.locator('[data-preview-summary]').waitFor();
  const preview = await call<PolicyPreview>('POST', '/api/v1/policies/web/preview', { text: EVERY_DAY });
  assert.equal(preview.valid, true);
  const hosts = await call<ApiPage<HostSummary>>('GET', '/api/v1/hosts?group=web&per_page=500');
  assert.ok(hosts.total > 1, 'the group has hosts');
  assert.equal(preview.hosts_total, hosts.total);
  assert.deepEqual(preview.hosts.map((h) => h.hostname).sort(), hosts.items.map((h) => h.hostname).sort());
  const rows = page.locator('table[data-table="policy-preview"] tbody tr');
  assert.equal(await rows.count(), preview.hosts.length);
  for (const h of preview.hosts) {
    const row = rows.filter({ has: page.locator(`[data-host="${h.hostname}"]`) });
    assert.equal(await row.locator('[data-will-patch]').getAttribute('data-will-patch'), String(h.draft.will_patch));
    assert.equal(await row.locator('td[data-col="ring"]').textContent(), h.draft.ring?.name ?? 'none');
  }
  const patching = preview.hosts.filter((h) => h.draft.will_patch).length;
  const differ = preview.hosts.filter((h) => h.draft.will_patch !== (h.in_force?.will_patch ?? false)).length;
  assert.ok(patching > 0, 'with the window open all day, some hosts patch tonight');
  assert.match(
    (await page.locator('[data-preview-summary]').textContent()) ?? '',
    new RegExp(
      `${hosts.total} hosts in group web: ${patching} would patch in the next 24 hours, ${differ} differs? from`,
    ),
  );
  // Every host has a policy in force to compare with (web has one).
  assert.ok(preview.hosts.every((h) => h.in_force !== null));
});

test('saving makes the next version; the diff shows what changed; a rollback brings the old one back, audited', async () => {
  const before = await call<StoredPolicy[]>('GET', '/api/v1/policies/web/versions');
  const old = before[0];
  await page.locator('[data-action="save"]').click();
  await page.locator(`[data-version="${old.version + 1}"]`).waitFor();
  const after = await call<StoredPolicy[]>('GET', '/api/v1/policies/web/versions');
  assert.equal(after.length, before.length + 1);
  assert.equal(after[0].version, old.version + 1);
  assert.equal(after[0].created_by, 'admin');
  assert.equal(after[0].policy.description, 'Web front ends, every night');
  assert.equal((after[0].policy.reboot as { max_concurrent: number }).max_concurrent, 3);

  // The diff between the old and new version: the changed lines, removed and added.
  const diff = page.locator(`[data-diff="${old.version}-${old.version + 1}"]`);
  await diff.waitFor();
  const added = await diff.locator('[data-kind="added"]').allTextContents();
  const removed = await diff.locator('[data-kind="removed"]').allTextContents();
  assert.ok(
    added.some((l) => l.includes('max_concurrent: 3')),
    added.join('\n'),
  );
  assert.ok(
    removed.some((l) => l.includes('max_concurrent: 2')),
    removed.join('\n'),
  );
  assert.ok(
    removed.some((l) => l.includes('Europe/Berlin')),
    removed.join('\n'),
  );
  assert.ok(!added.some((l) => l.includes('Europe/Berlin')));

  await page.locator(`[data-rollback="${old.version}"]`).click();
  await page.locator(`[data-version="${old.version + 2}"]`).waitFor();
  const rolled = await call<StoredPolicy[]>('GET', '/api/v1/policies/web/versions');
  assert.equal(rolled[0].version, old.version + 2);
  assert.deepEqual({ ...rolled[0].policy, version: 0 }, { ...old.policy, version: 0 });
  // The editor shows the version in force again.
  assert.match(await editor().inputValue(), /Europe\/Berlin/);

  const audit = await call<AuditPage>('GET', '/api/v1/audit?action=policy.rollback');
  const entry = audit.items.find((e) => e.action === 'policy.rollback');
  assert.ok(entry, 'the rollback is in the audit log');
  assert.equal(entry.actor.name, 'admin');
  assert.equal(entry.outcome, 'success');
  assert.deepEqual((entry.after as { version: number }).version, old.version + 2);
  assert.deepEqual((entry.before as { version: number }).version, old.version + 1);
});

test('a new policy starts from a valid text; a viewer reads a policy and cannot change it', async () => {
  await page.goto(`${server.url}/policies`);
  await page.locator('input[name="new-policy-name"]').fill('batch');
  await page.locator('form[data-form="new-policy"] button[type="submit"]').click();
  await editor().waitFor();
  await page.locator('[data-valid]').waitFor();
  assert.match(await editor().inputValue(), /^group: batch$/m);

  await call('POST', '/api/v1/users', { username: 'reader', role: 'viewer', password: 'a reader password 123' });
  const viewer = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const p = await viewer.newPage();
    await p.goto(`${server.url}/policies/web`);
    await p.getByLabel('Username').fill('reader');
    await p.getByLabel('Password').fill('a reader password 123');
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.locator('textarea[name="policy-text"]').waitFor();
    assert.equal(await p.locator('textarea[name="policy-text"]').getAttribute('readonly'), '');
    assert.equal(await p.locator('[data-action="save"]').count(), 0);
    assert.equal(await p.locator('[data-rollback]').count(), 0);
  } finally {
    await viewer.close();
  }
});
