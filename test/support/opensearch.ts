// Test-side helpers for the real OpenSearch node (scripts/opensearch-node): where it is,
// extra nodes for restart scenarios, and cleanup of what a test created.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { SearchClient } from '../../src/export/client.ts';
import type { ExportNames } from '../../src/export/names.ts';
import { REPO_ROOT } from './paths.ts';

const SCRIPT = join(REPO_ROOT, 'scripts/opensearch-node');

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runNodeScript(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      [SCRIPT, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * The shared test node's URL. `PATCHLOOP_TEST_OPENSEARCH_URL` (set by `npm test`) must
 * answer: an unreachable node is a failure, never a skip. Without the variable the node
 * is started here (or reused), so a single test file runs on its own too.
 */
export async function testClusterUrl(): Promise<string> {
  const configured = process.env.PATCHLOOP_TEST_OPENSEARCH_URL;
  if (!configured) {
    const started = await runNodeScript(['start']);
    if (started.code !== 0)
      throw new Error(`scripts/opensearch-node start failed (${started.code}):\n${started.stderr}`);
    return started.stdout.trim().split('\n').pop() as string;
  }
  try {
    const response = await fetch(new URL('/_cluster/health', configured), { signal: AbortSignal.timeout(10_000) });
    const health = (await response.json()) as { status?: string };
    if (health.status !== 'green' && health.status !== 'yellow')
      throw new Error(`cluster health is ${String(health.status)}`);
  } catch (error) {
    throw new Error(
      `PATCHLOOP_TEST_OPENSEARCH_URL=${configured} is set but the node does not answer (${(error as Error).message}); start it with scripts/opensearch-node start`,
      {
        cause: error,
      },
    );
  }
  return configured;
}

/** A port nothing listens on right now (for an extra node). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A prefix no other test run uses, so test files can share the node. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Removes the data streams, index, templates and policies a test created under `names`. */
export async function removeExport(client: SearchClient, names: ExportNames): Promise<void> {
  const accept = [404];
  for (const stream of [names.vulnerabilityEvents, names.patchEvents, names.hostSummaries, names.audit]) {
    await client.request({ method: 'DELETE', path: `/_data_stream/${stream}`, accept });
  }
  await client.request({ method: 'DELETE', path: `/${names.findings}`, accept });
  for (const template of Object.values(names.templates)) {
    await client.request({ method: 'DELETE', path: `/_index_template/${template}`, accept });
  }
  for (const component of Object.values(names.components)) {
    await client.request({ method: 'DELETE', path: `/_component_template/${component}`, accept });
  }
}

/** Count of documents in an index or data stream (after a refresh, so all writes count). */
/** Documents of `target` (those `query` matches, when given), after a refresh. */
export async function countDocs(
  client: SearchClient,
  target: string,
  query?: Record<string, unknown>,
): Promise<number> {
  await client.request({ method: 'POST', path: `/${target}/_refresh` });
  const response = query
    ? await client.request<{ count: number }>({ method: 'POST', path: `/${target}/_count`, body: { query } })
    : await client.request<{ count: number }>({ method: 'GET', path: `/${target}/_count` });
  return response.body.count;
}

export interface StoredDoc {
  _id: string;
  _version?: number;
  _seq_no: number;
  _primary_term: number;
  _source: Record<string, unknown>;
}

/** Every document of a target with version and seq_no (sorted by id), via search_after pages. */
export async function allDocs(client: SearchClient, target: string): Promise<StoredDoc[]> {
  await client.request({ method: 'POST', path: `/${target}/_refresh` });
  const docs: StoredDoc[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const response = await client.request<{ hits: { hits: (StoredDoc & { sort: unknown[] })[] } }>({
      method: 'POST',
      path: `/${target}/_search`,
      body: {
        size: 2000,
        version: true,
        seq_no_primary_term: true,
        sort: [{ _id: 'asc' }],
        ...(after ? { search_after: after } : {}),
      },
    });
    const hits = response.body.hits.hits;
    docs.push(...hits);
    if (hits.length < 2000) return docs;
    after = hits[hits.length - 1].sort;
  }
}
