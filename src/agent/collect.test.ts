import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PackageSchema } from '../core/protocol.ts';
import { copyBookwormRoot } from '../../test/support/fixtures.ts';
import { collectSnapshot } from './collect.ts';

test('a package record beyond the protocol limits is left out with a warning; the rest is reported', async (t) => {
  const root = copyBookwormRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const clean = await collectSnapshot({ root, kernel: '6.1.0-40-amd64', hostname: 'collect-test' });
  appendFileSync(
    join(root, 'var/lib/dpkg/status'),
    `\nPackage: damaged-record\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.${'0'.repeat(600)}\nDescription: a record with an absurd version\n`,
  );
  const snap = await collectSnapshot({ root, kernel: '6.1.0-40-amd64', hostname: 'collect-test' });
  assert.equal(snap.packages.length, clean.packages.length);
  assert.ok(snap.packages.every((p) => PackageSchema.safeParse(p).success));
  const warning = snap.warnings.find((w) => w.includes('damaged-record'));
  assert.match(warning ?? '', /left out of the report: version: longer than 512 characters/);
});
