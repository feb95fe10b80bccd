// A CSAF product tree nested far deeper than any real one (found by the fuzz suite, test/fuzz):
// refused with a warning instead of overflowing the stack in the schema's recursion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../archive.ts';
import { replaceFeed } from '../../vulndb/writer.ts';
import { MAX_BRANCH_DEPTH } from './csaf.ts';
import { importRedHat, type RedHatImportSummary } from './index.ts';

const ADVISORY = fileURLToPath(
  new URL('../../../../shared/data/feeds/redhat/csaf/advisories/2024/rhsa-2024_6163.json', import.meta.url),
);

/** The real advisory with one more top-level branch: a chain `depth` branches deep. */
function withChain(depth: number): string {
  const doc = JSON.parse(readFileSync(ADVISORY, 'utf8')) as { product_tree: { branches: unknown[] } };
  doc.product_tree.branches.push('CHAIN');
  // Spliced into the text: JSON.stringify recurses too.
  const chain =
    '{"category":"vendor","name":"x","branches":['.repeat(depth) +
    '{"category":"vendor","name":"y"}' +
    ']}'.repeat(depth);
  return JSON.stringify(doc).replace('"CHAIN"', chain);
}

async function importText(
  t: { after(fn: () => void): void },
  text: string,
  warnings: string[],
): Promise<RedHatImportSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-csaf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'rhsa.json'), text);
  let summary: RedHatImportSummary | undefined;
  await replaceFeed(join(dir, 'data'), 'redhat', async (writer) => {
    summary = await importRedHat([join(dir, 'rhsa.json')], { writer, warn: (m) => warnings.push(m) });
  });
  return summary as RedHatImportSummary;
}

test('a product tree nested 10,000 branches deep is skipped with a warning, not a stack overflow', async (t) => {
  const warnings: string[] = [];
  await assert.rejects(importText(t, withChain(10_000), warnings), (err: Error) => err.cause instanceof InputError);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    new RegExp(
      `rhsa\\.json: not a valid CSAF document: product_tree branches nested more than ${MAX_BRANCH_DEPTH} deep$`,
    ),
  );
});

test('a product tree nested as deep as allowed is imported as before', async (t) => {
  const plain = await importText(t, readFileSync(ADVISORY, 'utf8'), []);
  const deep = await importText(t, withChain(MAX_BRANCH_DEPTH - 1), []);
  assert.equal(deep.csaf, 1);
  assert.ok(plain.entries > 0);
  assert.equal(deep.entries, plain.entries);
});
