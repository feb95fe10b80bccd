import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PRIORITY_CONFIG } from '../core/priority.ts';
import { replaceFeed } from '../vulndb/writer.ts';
import { ManualClock } from './clock.ts';
import { ServerEnrichment } from './enrichment.ts';
import { Store } from './store/store.ts';
import { VulnDbHolder } from './vulndb-holder.ts';

const kevCatalogue = (dataDir: string, cve: string) =>
  replaceFeed(dataDir, 'kev', (w) =>
    w.kev({
      cve,
      vendor: 'Example',
      product: 'Example',
      name: 'Example flaw',
      required_action: 'Apply updates',
      date_added: '2026-11-02',
      due_date: '2026-11-23',
      ransomware: null,
    }),
  );

test('what the enrichment derives is keyed by the files it reads, not by files a refresh renamed into place a moment before it opens them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-enrichment-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await kevCatalogue(dir, 'CVE-2099-0001');
  const store = Store.open(join(dir, 'server.sqlite'), new ManualClock('2026-11-03T00:00:00Z'));
  const holder = new VulnDbHolder(dir);
  t.after(() => {
    holder.close();
    store.close();
  });
  const enrichment = new ServerEnrichment(store, holder, DEFAULT_PRIORITY_CONFIG);
  const [first, second] = ['CVE-2099-0001', 'CVE-2099-0002'].map((id) => store.interner.vulnId(id));
  assert.deepEqual([enrichment.knownExploited(first), enrichment.knownExploited(second)], [true, false]);
  const before = enrichment.fingerprint();

  // A refresh replaces the catalogue on disk; the server has not opened it yet.
  await kevCatalogue(dir, 'CVE-2099-0002');
  assert.notEqual(holder.fingerprint(), before, 'the disk has new files');
  assert.equal(enrichment.fingerprint(), before, 'still the data read before');
  assert.equal(enrichment.knownExploited(second), false);

  holder.reload();
  assert.notEqual(enrichment.fingerprint(), before);
  assert.equal(enrichment.fingerprint(), holder.fingerprint());
  assert.deepEqual([enrichment.knownExploited(first), enrichment.knownExploited(second)], [false, true]);
});
