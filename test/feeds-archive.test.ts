// Feed inputs read the same whatever they come in: a directory, zip, tar, tar.gz, tar.xz or a
// gzip-compressed file; a truncated archive or a missing path is an error naming the input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { packTar } from 'modern-tar';
import { detectFormat, InputError, readInput } from '../src/feeds/archive.ts';

const ROCKY = fileURLToPath(new URL('../../shared/data/feeds/rocky', import.meta.url));
const names = readdirSync(ROCKY)
  .filter((f) => f.endsWith('.json'))
  .sort();

async function members(input: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const f of readInput(input)) out.set(f.name.replace(/^.*\//, ''), Buffer.from(f.data).toString('utf8'));
  return out;
}

test('directory, zip, tar, tar.gz, tar.zst, tar.xz and .gz inputs yield the same JSON members', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-archive-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = Object.fromEntries(names.map((n) => [n, readFileSync(join(ROCKY, n))]));
  const expected = new Map(names.map((n) => [n, files[n].toString('utf8')]));

  writeFileSync(
    join(dir, 'all.zip'),
    zipSync(Object.fromEntries(names.map((n) => [`rocky/${n}`, new Uint8Array(files[n])]))),
  );
  const tar = await packTar([
    { header: { name: 'osv/', type: 'directory', size: 0 } },
    ...names.map((n) => ({ header: { name: `osv/${n}`, size: files[n].length }, body: new Uint8Array(files[n]) })),
    { header: { name: 'osv/README.md', size: 5 }, body: 'notes' },
  ]);
  writeFileSync(join(dir, 'all.tar'), tar);
  writeFileSync(join(dir, 'all.tar.gz'), gzipSync(tar));
  writeFileSync(join(dir, 'all.tar.zst'), zstdCompressSync(tar));
  writeFileSync(join(dir, `${names[0]}.gz`), gzipSync(files[names[0]]));

  assert.equal(await detectFormat(ROCKY), 'directory');
  assert.equal(await detectFormat(join(dir, 'all.zip')), 'zip');
  assert.equal(await detectFormat(join(dir, 'all.tar')), 'tar');
  assert.equal(await detectFormat(join(dir, 'all.tar.gz')), 'tar.gz');
  assert.equal(await detectFormat(join(dir, 'all.tar.zst')), 'tar.zst');
  assert.equal(await detectFormat(join(dir, `${names[0]}.gz`)), 'gz');

  assert.deepEqual(await members(ROCKY), expected);
  assert.deepEqual(await members(join(dir, 'all.zip')), expected);
  assert.deepEqual(await members(join(dir, 'all.tar')), expected, 'tar: README.md and the directory entry are skipped');
  assert.deepEqual(await members(join(dir, 'all.tar.gz')), expected);
  assert.deepEqual(await members(join(dir, 'all.tar.zst')), expected, "Red Hat's CSAF VEX collection is a .tar.zst");
  assert.deepEqual(await members(join(dir, `${names[0]}.gz`)), new Map([[names[0], expected.get(names[0])]]));

  // xz archives (Canonical's osv-all.tar.xz) go through the xz tool.
  execFileSync('xz', ['-k', '-z', join(dir, 'all.tar')]);
  assert.equal(await detectFormat(join(dir, 'all.tar.xz')), 'tar.xz');
  assert.deepEqual(await members(join(dir, 'all.tar.xz')), expected);
});

test('a truncated archive or a missing input is an error naming it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-archive-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const body = new Uint8Array(readFileSync(join(ROCKY, names[0])));
  const tar = await packTar(names.map((n) => ({ header: { name: n, size: body.length }, body })));
  const gz = gzipSync(tar);
  writeFileSync(join(dir, 'cut.tar.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  const zip = zipSync({ 'a.json': body, 'b.json': body });
  writeFileSync(join(dir, 'cut.zip'), zip.subarray(0, 40));

  // A member whose compressed bytes are damaged: the error names the member.
  const damaged = Buffer.from(zipSync({ 'a.json': body, 'b.json': body }, { level: 9 }));
  const bStart = damaged.indexOf('b.json') + 'b.json'.length;
  for (let i = bStart + 8; i < bStart + 40; i++) damaged[i] ^= 0xff;
  writeFileSync(join(dir, 'damaged.zip'), damaged);
  await assert.rejects(
    members(join(dir, 'damaged.zip')),
    (err: Error) => err instanceof InputError && err.message.includes('damaged.zip!b.json'),
  );

  await assert.rejects(
    members(join(dir, 'cut.tar.gz')),
    (err: Error) => err instanceof InputError && err.message.includes('cut.tar.gz') && /corrupt/.test(err.message),
  );
  await assert.rejects(
    members(join(dir, 'cut.zip')),
    (err: Error) => err instanceof InputError && err.message.includes('cut.zip'),
  );
  await assert.rejects(
    members(join(dir, 'missing.zip')),
    (err: Error) => err instanceof InputError && err.message.includes('missing.zip') && /ENOENT/.test(err.message),
  );
});
