// The dashboard's Agent versions card and Agent column, in Debian's chromium against a real
// server: hosts report agents of two versions and one never reports; the repository publishes
// a package of the newer one (a .deb whose control file says so, built by dpkg-deb).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../src/core/types.ts';
import { CHROMIUM, launchBrowser, logIn } from './support/browser.ts';
import { ADMIN_PASSWORD, api, enrollTestHost, fullReportOf, startTestServer } from './support/server.ts';

const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is not installed`
  : spawnSync('sh', ['-c', 'command -v dpkg-deb']).status !== 0
    ? 'dpkg-deb is missing'
    : false;

test(
  'the overview counts hosts on the latest published agent and lists every version; the hosts table has an Agent column',
  { skip, timeout: 180_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'patchloop-agent-versions-'));
    const packages = join(work, 'packages');
    const deb = join(work, 'deb');
    mkdirSync(join(deb, 'DEBIAN'), { recursive: true });
    writeFileSync(
      join(deb, 'DEBIAN/control'),
      'Package: patchloop\nVersion: 0.2.0-1\nArchitecture: amd64\nMaintainer: x <x@example.invalid>\nDescription: a later patchloop\n',
    );
    mkdirSync(packages);
    assert.equal(spawnSync('dpkg-deb', ['-Zgzip', '-b', deb, join(packages, 'patchloop_0.2.0-1_amd64.deb')]).status, 0);
    const s = await startTestServer(null, { repo: { packages_dir: packages } });
    const browser = await launchBrowser();
    t.after(async () => {
      await browser.close();
      await s.close();
      await rm(work, { recursive: true, force: true });
      await rm(s.dataDir, { recursive: true, force: true });
    });
    const inv: Inventory = {
      os: { id: 'debian', version_id: '12', codename: 'bookworm', pretty_name: 'Debian GNU/Linux 12 (bookworm)' },
      kernel: null,
      packages: [],
    };
    for (const [hostname, version] of [
      ['web-1', '0.2.0'],
      ['web-2', '0.2.0'],
      ['db-1', '0.1.0'],
    ]) {
      const token = await enrollTestHost(s, hostname);
      const report = fullReportOf(inv, hostname);
      report.agent.version = version;
      assert.equal((await api(s.url, '/api/v1/reports', { token, body: report })).status, 200);
    }
    await enrollTestHost(s, 'new-1');

    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await logIn(page, s.url, ADMIN_PASSWORD);
    await page.locator('[data-agent-version]').first().waitFor();
    assert.equal(await page.locator('[data-latest]').textContent(), '0.2.0');
    assert.equal(await page.locator('[data-on-latest]').getAttribute('data-on-latest'), '2');
    assert.match(
      (await page.locator('[data-on-latest]').textContent()) ?? '',
      /2 of 4 hosts on the latest version · 1 older/,
    );
    const rows = await page
      .locator('[data-agent-version]')
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-agent-version'), e.querySelector('[data-n]')?.textContent]),
      );
    assert.deepEqual(rows, [
      ['0.2.0', '2'],
      ['0.1.0', '1'],
      ['', '1'],
    ]);

    await page.goto(`${s.url}/hosts?search=db-1`);
    await page.locator('table tbody tr').first().waitFor();
    const headers = await page.locator('table thead th').allTextContents();
    const agentColumn = headers.findIndex((h) => h.trim() === 'Agent');
    assert.ok(agentColumn >= 0, headers.join('|'));
    // db-1's agent is older than the one the repository publishes, and the cell says so in words.
    const agent = page.locator('table tbody tr').first().locator('td').nth(agentColumn);
    assert.equal(await agent.locator('[data-agent]').getAttribute('data-agent'), '0.1.0');
    assert.equal((await agent.textContent())?.trim(), '0.1.0 older');
    assert.equal(await agent.locator('.badge').getAttribute('title'), 'the repository publishes 0.2.0');
  },
);
