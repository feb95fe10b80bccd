// The fleet matcher's cache gives, host after host, exactly what the standalone matcher gives
// for each host — including kernel images, whose findings depend on the running kernel — and
// interned values dropped by a rolled-back transaction are really gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchInventory } from '../src/core/match.ts';
import { summarise } from '../src/scan/report.ts';
import type { InstalledPackage, Inventory } from '../src/core/types.ts';
import { readInventory } from '../src/inventory/index.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { ManualClock } from '../src/server/clock.ts';
import { FleetMatcher } from '../src/server/fleet-matcher.ts';
import { Store } from '../src/server/store/store.ts';
import { BOOKWORM_ROOT, trackerFeedV1 } from './support/fixtures.ts';
import { importDebianFeed } from './support/vulndb.ts';

const image = (abi: string, version: string): InstalledPackage => ({
  name: `linux-image-${abi}`,
  version,
  arch: 'amd64',
  source: 'linux-signed-amd64',
  source_version: version.replace(/-(\d+)$/, '+$1'),
  format: 'deb',
});

const linuxEntry = (status: 'resolved' | 'open', urgency: string, fixed?: string) => ({
  description: 'kernel test entry',
  scope: 'local',
  releases: {
    bookworm: { status, urgency, repositories: { bookworm: 'x' }, ...(fixed ? { fixed_version: fixed } : {}) },
  },
});

test('cached fleet matching equals the standalone matcher, host by host, kernels included', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-fm-'));
  importDebianFeed(dataDir, {
    ...trackerFeedV1(),
    linux: {
      'CVE-2099-2001': linuxEntry('resolved', 'high', '6.1.150-1'),
      'CVE-2099-2002': linuxEntry('open', 'medium'),
    },
  });
  const db = VulnDb.open(dataDir);
  const store = Store.open(':memory:', new ManualClock('2026-11-01T00:00:00Z'));
  const matcher = new FleetMatcher(db, store.interner, 1, { today: () => '2026-11-01' });
  const base = await readInventory(BOOKWORM_ROOT);
  const kernels = [image('6.1.0-40-amd64', '6.1.140-1'), image('6.1.0-41-amd64', '6.1.160-1')];

  const hosts: Inventory[] = [
    { ...base, kernel: '6.1.0-40-amd64', packages: [...base.packages, ...kernels] },
    { ...base, kernel: '6.1.0-41-amd64', packages: [...base.packages, ...kernels] },
    { ...base, kernel: '6.1.0-41-amd64', packages: [...base.packages.slice(5), kernels[1]] },
    { ...base, kernel: '6.1.0-40-amd64', packages: [...base.packages, ...kernels] },
  ];
  for (const inv of hosts) {
    const ids = store.tx(() => inv.packages.map((p) => store.interner.packageId(p)));
    const got = matcher.matchHost({ os: inv.os, kernel: inv.kernel, proAttached: false, pkgIds: ids });
    const direct = matchInventory(inv, db, { today: '2026-11-01' });
    const exposure = direct.findings
      .filter((f) => !f.kernel_not_running)
      .map((f) => `${f.package.name} ${f.id} ${f.status}`)
      .sort();
    const cached = [...got.findings.values()]
      .map(
        (f) =>
          `${store.interner.name(f.nameId).name} ${store.interner.vuln(f.vulnId)} ${store.interner.detail(f.detailId).status}`,
      )
      .sort();
    assert.deepEqual(cached, exposure, `host with kernel ${inv.kernel}`);
    // Exposures (source package, vulnerability) on images that are not running only, as the scan counts them.
    assert.equal(got.dormant, summarise(direct.findings).kernel_not_running);
    assert.equal(got.kernelNewer, direct.kernel.newer_installed);
    // A delta's matching (only some package names) gives those names' findings, same facts.
    const some = new Set(ids.filter((_, i) => i % 3 === 0).map((id) => store.interner.pkg(id).nameId));
    const part = matcher.matchHost({
      os: inv.os,
      kernel: inv.kernel,
      proAttached: false,
      pkgIds: ids,
      onlyNames: some,
    });
    assert.deepEqual(
      new Set(part.findings.keys()),
      new Set([...got.findings.keys()].filter((k) => some.has(got.findings.get(k)!.nameId))),
    );
    assert.deepEqual([part.dormant, part.kernelNewer], [got.dormant, got.kernelNewer]);
  }
  // The running -40 image has both kernel CVEs; -41 is newer and fixes one: its other one is
  // the running kernel's too, so nothing is dormant. Booted into -41, -40's fixed CVE is.
  const dormantOf = (inv: Inventory) =>
    matcher.matchHost({
      os: inv.os,
      kernel: inv.kernel,
      proAttached: false,
      pkgIds: inv.packages.map((p) => store.interner.find(p)!),
    });
  assert.deepEqual([dormantOf(hosts[0]).kernelNewer, dormantOf(hosts[0]).dormant], [true, 0]);
  assert.deepEqual([dormantOf(hosts[1]).kernelNewer, dormantOf(hosts[1]).dormant], [false, 1]);
  db.close();
});

test('values interned in a rolled-back transaction are forgotten, and ids are not confused', () => {
  const store = Store.open(':memory:', new ManualClock(0));
  const a: InstalledPackage = {
    name: 'a',
    version: '1',
    arch: 'amd64',
    source: 'a',
    source_version: '1',
    format: 'deb',
  };
  const b: InstalledPackage = { ...a, name: 'b' };
  assert.throws(() =>
    store.tx(() => {
      store.interner.packageId(a);
      throw new Error('abort');
    }),
  );
  assert.equal(store.interner.find(a), undefined);
  // SQLite may hand the rolled-back id to another package: `a` must not be found under it.
  const idB = store.tx(() => store.interner.packageId(b));
  assert.equal(store.interner.find(a), undefined);
  assert.equal(store.interner.find(b), idB);
  const idA = store.tx(() => store.interner.packageId(a));
  assert.notEqual(idA, idB);
  assert.equal(store.interner.find(a), idA);
  assert.equal(store.interner.pkg(idA).pkg.name, 'a');
});
