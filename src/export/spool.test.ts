import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchClient } from './client.ts';
import type { BulkItem } from './items.ts';
import { ship, Spool } from './spool.ts';

const item = (i: number): BulkItem => ({
  action: 'create',
  index: 'patchloop-events-vulnerability',
  id: `e${i}`,
  doc: { '@timestamp': '2026-03-02T06:00:00Z', n: i },
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function withSpool(run: (spool: Spool, dir: string, client: SearchClient) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-spool-'));
  const client = new SearchClient({ url: `http://127.0.0.1:${await closedPort()}`, retry: { maxRetries: 0 } });
  try {
    await run(new Spool(join(dir, 'spool')), dir, client);
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('with the cluster down, ship() spools everything in order and returns', async () => {
  await withSpool(async (spool, _dir, client) => {
    const first = await ship(client, spool, [item(1), item(2)]);
    assert.deepEqual([first.spooled, first.spoolRemaining, first.created, first.rejected.length], [2, 2, 0, 0]);
    const second = await ship(client, spool, [item(3)]);
    assert.deepEqual([second.spooled, second.spoolRemaining], [1, 3]);
    assert.equal(await spool.size(), 3);
    assert.equal((await spool.segments()).length, 2);
    // Oldest segment first, items in their order.
    const replay = await spool.replay(client);
    assert.deepEqual(replay.pending, [item(1), item(2)], 'replay stops at the first segment the cluster cannot take');
    assert.equal(replay.spoolRemaining, 3);
  });
});

test('a damaged spool segment is set aside with file and line named; the others stay', async () => {
  await withSpool(async (spool, _dir, client) => {
    await spool.enqueue([item(1)]);
    const [segment] = await spool.segments();
    const later = segment.replace(/^\d{15}/, (ms) => String(Number(ms) + 1).padStart(15, '0'));
    writeFileSync(join(spool.dir, later), `${JSON.stringify(item(2))}\n{"action":"upsert","index":"x"}\n`);
    const earlier = segment.replace(/^\d{15}/, (ms) => String(Number(ms) - 1).padStart(15, '0'));
    writeFileSync(join(spool.dir, earlier), 'not json at all\n');
    const report = await spool.replay(client);
    assert.equal(report.warnings.length, 1);
    assert.match(report.warnings[0], new RegExp(`${earlier.replace('.', '\\.')}:1: not JSON`));
    assert.ok(existsSync(join(spool.dir, `${earlier}.corrupt`)));
    // Cluster down: replay stopped at the intact segment, the one after it was not read yet.
    assert.deepEqual(report.pending, [item(1)]);
    assert.deepEqual(readdirSync(spool.dir).sort(), [`${earlier}.corrupt`, segment, later].sort());
    const next = await spool.replay(client);
    assert.deepEqual(next.warnings, []);
  });
});

test('a segment with an invalid item is named with its line', async () => {
  await withSpool(async (spool, _dir, client) => {
    await spool.enqueue([item(1)]);
    const [segment] = await spool.segments();
    writeFileSync(join(spool.dir, segment), `${JSON.stringify(item(1))}\n{"action":"upsert","index":"x"}\n`);
    const report = await spool.replay(client);
    assert.match(report.warnings[0], new RegExp(`${segment.replace('.', '\\.')}:2: not a spooled item: action: `));
    assert.equal(await spool.size(), 0);
  });
});
