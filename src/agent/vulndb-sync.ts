// Copies the server's vulnerability DB (the feeds for this host's distribution) into the local
// data directory, so `patchloop scan` works on a host without internet. Unchanged feeds are
// not downloaded again (ETag); a feed file is written beside the old one and renamed over it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import { VulnDbManifestSchema } from '../core/protocol.ts';
import { feedFile } from '../vulndb/paths.ts';
import { writeFileAtomic } from './files.ts';
import { jsonBody, type AgentHttpClient } from './http.ts';

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function syncVulnDb(
  client: AgentHttpClient,
  dataDir: string,
  distro: string,
  log: Pick<Logger, 'info'>,
): Promise<{ updated: string[]; unchanged: string[] }> {
  const res = await client.request('GET', `/api/v1/vulndb?distro=${encodeURIComponent(distro)}`);
  if (res.status !== 200) throw new Error(`vulnerability DB manifest: HTTP ${res.status}`);
  const manifest = VulnDbManifestSchema.parse(jsonBody(res));
  const updated: string[] = [];
  const unchanged: string[] = [];
  for (const f of manifest.feeds) {
    const target = feedFile(dataDir, f.feed);
    if (existsSync(target) && sha256(readFileSync(target)) === f.sha256) {
      unchanged.push(f.feed);
      continue;
    }
    const r = await client.request('GET', f.url, {
      headers: { 'accept-encoding': 'gzip', accept: 'application/vnd.sqlite3' },
    });
    if (r.status !== 200) throw new Error(`feed ${f.feed}: HTTP ${r.status}`);
    const data = r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body;
    if (sha256(data) !== f.sha256)
      throw new Error(`feed ${f.feed}: downloaded file does not match its sha256; kept the previous one`);
    writeFileAtomic(target, data, 0o644);
    updated.push(f.feed);
  }
  log.info({ updated, unchanged, data_dir: dataDir }, 'vulnerability DB synchronised from the server');
  return { updated, unchanged };
}
