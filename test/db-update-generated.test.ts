// The benchmark's tracker generator writes the real schema: a (small) generated file imports
// through the CLI without a single warning, with the counts the generator reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateTracker, hostSources } from './support/debian-tracker-generator.ts';
import { VulnDb } from '../src/vulndb/reader.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const HOST_STATUS = join(ROOT, '../shared/data/pkgdb/dpkg/bookworm-host/var/lib/dpkg/status');

test("a generated tracker imports cleanly, deterministically, with the host's packages in it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-gen-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tracker.json');
  const opts = { seed: 7, cves: 1500, dpkgStatus: [HOST_STATUS] };
  const stats = await generateTracker(file, opts);
  await generateTracker(join(dir, 'again.json'), opts);
  assert.deepEqual(readFileSync(join(dir, 'again.json')), readFileSync(file));
  assert.ok(stats.ids >= 1500 && stats.records > stats.ids);

  const { stdout, stderr } = await promisify(execFile)(join(ROOT, 'bin/patchloop'), [
    'db',
    'update',
    '--source',
    'debian',
    '--from',
    file,
    '--data-dir',
    join(dir, 'data'),
  ]);
  assert.equal(stderr, '', 'no record of the generated file is malformed');
  const entries = stats.releaseEntries - stats.notAffected;
  assert.match(
    stdout,
    new RegExp(
      `^debian: ${entries.toLocaleString('en-US')} entries, ${stats.ids.toLocaleString('en-US')} vulnerabilities`,
    ),
  );

  // Bookworm entries of the host's own source packages sit at or above the installed version.
  const host = hostSources([HOST_STATUS]);
  const db = VulnDb.open(join(dir, 'data'));
  t.after(() => db.close());
  let found = 0;
  for (const [source, version] of host) {
    for (const e of db.entries('debian', 'bookworm', source)) {
      found++;
      if (e.status === 'fixed')
        assert.ok(
          e.fixed_version === version || e.fixed_version?.startsWith(`${version}+deb12u`),
          `${source} ${e.fixed_version}`,
        );
    }
  }
  assert.ok(found > 0, 'some host packages have bookworm entries');
});
