// Damaged secdb documents the fuzz suite (test/fuzz) found trouble with: a value nested far too
// deep where a list of ids belongs, and YAML with a great many errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../archive.ts';
import { replaceFeed } from '../../vulndb/writer.ts';
import { importAlpine, type AlpineImportSummary } from './index.ts';

const SECDB = fileURLToPath(new URL('../../../../shared/data/feeds/alpine/', import.meta.url));

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-alpine-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function importInto(dir: string, inputs: string[], warnings: string[]): Promise<AlpineImportSummary> {
  let summary: AlpineImportSummary | undefined;
  await replaceFeed(join(dir, 'data'), 'alpine', async (writer) => {
    summary = await importAlpine(inputs, { writer, warn: (m) => warnings.push(m) });
  });
  return summary as AlpineImportSummary;
}

test('a deeply nested value where a list of ids belongs is skipped with a short warning', async (t) => {
  const dir = scratch(t);
  const doc = JSON.parse(readFileSync(join(SECDB, 'secdb-json/312-main.json'), 'utf8')) as {
    packages: { pkg: { name: string; secfixes: Record<string, unknown> } }[];
  };
  const depth = 100_000;
  const file = join(dir, 'main.json');
  // JSON.stringify cannot write it either: the nesting is spliced into the text.
  doc.packages[0].pkg.secfixes['9.9.9-r0'] = 'DEEP';
  writeFileSync(file, JSON.stringify(doc).replace('"DEEP"', '['.repeat(depth) + ']'.repeat(depth)));
  const warnings: string[] = [];
  const summary = await importInto(dir, [file], warnings);
  assert.ok(summary.entries > 0);
  assert.deepEqual(
    warnings.filter((w) => w.includes('9.9.9-r0')),
    [
      `skipped ${file}: ${doc.packages[0].pkg.name} 9.9.9-r0: expected a list of vulnerability ids, found a list of 1 items`,
    ],
  );
});

test('YAML with thousands of errors is refused with the line of the first', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'main.yaml');
  // The fuzz suite's input: the real file's first line, its value cut and repeated on one line.
  const first = readFileSync(join(SECDB, 'secdb-yaml/main.yaml'), 'utf8').split('\n')[0].slice(0, 40);
  writeFileSync(file, `# v3.15\n${first.repeat(5_000)}\n`);
  const warnings: string[] = [];
  await assert.rejects(
    importInto(dir, [file], warnings),
    (err: Error) => err.cause instanceof InputError && err.cause.message.startsWith(`${file}: not Alpine secdb data`),
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], new RegExp(`^skipped ${file}:2: not valid YAML: `));
});

test('YAML flow collections nested beyond any secdb document are refused before parsing', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'main.yaml');
  writeFileSync(file, `distroversion: v3.15\npackages: ${'['.repeat(200_000)}\n`);
  const warnings: string[] = [];
  await assert.rejects(importInto(dir, [file], warnings), (err: Error) => err.cause instanceof InputError);
  assert.deepEqual(warnings, [`skipped ${file}:2: not a secdb document: YAML collections nested more than 64 deep`]);
});

test('ids as secdb writes them: a suffixed CVE id is that CVE once, another id beside it its alias, an id with no CVE its own', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'main.json');
  // Shapes of Alpine's own secdb (aports secfixes): rsync's two patches for one CVE, a patch
  // file named after its CVE, Xen's advisory beside the CVE it covers and one with no CVE.
  writeFileSync(
    file,
    JSON.stringify({
      distroversion: 'v3.20',
      reponame: 'main',
      packages: [
        {
          pkg: { name: 'rsync', secfixes: { '3.1.2-r7': ['CVE-2017-16548', 'CVE-2017-17434-1', 'CVE-2017-17434-2'] } },
        },
        { pkg: { name: 'linux-lts', secfixes: { '5.4.5-r1': ['CVE-2019-19451.patch'] } } },
        { pkg: { name: 'xen', secfixes: { '4.12.1-r0': ['CVE-2019-17340 XSA-284', 'XSA-295'] } } },
      ],
    }),
  );
  const warnings: string[] = [];
  await importInto(dir, [file], warnings);
  assert.deepEqual(warnings, []);
  const { VulnDb } = await import('../../vulndb/reader.ts');
  const db = VulnDb.open(join(dir, 'data'));
  try {
    const ids = (pkg: string): string[] =>
      db
        .entries('alpine', '3.20', pkg)
        .map((e) => `${e.vuln_id} ${e.fixed_version}`)
        .sort();
    assert.deepEqual(ids('rsync'), ['CVE-2017-16548 3.1.2-r7', 'CVE-2017-17434 3.1.2-r7']);
    assert.deepEqual(ids('linux-lts'), ['CVE-2019-19451 5.4.5-r1']);
    assert.deepEqual(ids('xen'), ['CVE-2019-17340 4.12.1-r0', 'XSA-295 4.12.1-r0']);
    assert.deepEqual(db.vulnerability('CVE-2019-17340')?.aliases, ['XSA-284']);
    assert.deepEqual(db.vulnerability('XSA-295')?.aliases, []);
    assert.equal(db.vulnerability('CVE-2017-17434-1'), null);
  } finally {
    db.close();
  }
});
