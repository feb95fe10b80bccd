import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseUpdateinfo, UpdateinfoError } from './updateinfo.ts';

const REAL = new URL('../../../../shared/data/feeds/rocky/updateinfo/updateinfo.xml', import.meta.url);
const opts = { feed: 'rocky', distro: 'rocky', defaultRelease: '8' };

test('XML that is not well-formed is an UpdateinfoError saying so', () => {
  const real = readFileSync(REAL, 'utf8');
  for (const broken of [
    real.slice(0, real.length / 2),
    '<updates><update type="security"><id>RLSA-1:1</id></updates>',
    '<updates>&e;</updates>',
  ]) {
    assert.throws(
      () => parseUpdateinfo(broken, opts),
      (err: unknown) => err instanceof UpdateinfoError && /^not well-formed XML: /.test(err.message),
    );
  }
  assert.ok(parseUpdateinfo(real, opts).entries.length > 0);
});
