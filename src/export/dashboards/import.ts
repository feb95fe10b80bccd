// Imports saved objects into Kibana or OpenSearch Dashboards through their saved objects API:
// `POST /api/saved_objects/_import?overwrite=true`, multipart with the NDJSON as `file`, and
// the product's anti-CSRF header (`kbn-xsrf` for Kibana, `osd-xsrf` for OpenSearch
// Dashboards; requests without it are refused).
import { z } from 'zod';
import { PatchloopError } from '../../core/errors.ts';
import { createPool, jsonOrNull, readBody, RequestError, send } from '../../net/http.ts';
import { authorizationHeader } from '../client.ts';
import type { Auth } from '../options.ts';
import type { Flavor } from './saved-objects.ts';

export interface ImportOptions {
  /** Kibana or OpenSearch Dashboards base URL (with its base path, if any). */
  url: string;
  flavor: Flavor;
  auth?: Auth;
  caFile?: string;
  /** Kibana space to import into (default: the default space). */
  space?: string;
  /** OpenSearch security plugin tenant (e.g. `global`), sent as `securitytenant`. */
  tenant?: string;
  timeoutMs?: number;
}

export interface ImportReport {
  successCount: number;
  /** Objects the server refused, with its reason. */
  errors: { id: string; type: string; error: string }[];
}

const answerSchema = z.object({
  success: z.boolean(),
  successCount: z.number().int(),
  errors: z
    .array(z.object({ id: z.string(), type: z.string(), error: z.object({ type: z.string() }).catchall(z.unknown()) }))
    .optional(),
});

/** Where and with which headers the import goes (pure, for tests). */
export function importTarget(options: ImportOptions): { url: URL; headers: Record<string, string> } {
  const base = new URL(options.url);
  if (base.username || base.password)
    throw new PatchloopError(
      'PL_E_DASHBOARDS_IMPORT',
      'put credentials in the auth options, not in the dashboards URL',
    );
  const prefix = base.pathname.replace(/\/+$/, '');
  const space = options.space && options.flavor === 'kibana' ? `/s/${encodeURIComponent(options.space)}` : '';
  const url = new URL(`${prefix}${space}/api/saved_objects/_import`, base);
  url.searchParams.set('overwrite', 'true');
  const headers: Record<string, string> = { [options.flavor === 'kibana' ? 'kbn-xsrf' : 'osd-xsrf']: 'true' };
  const authorization = authorizationHeader(options.auth);
  if (authorization) headers.authorization = authorization;
  if (options.tenant) headers.securitytenant = options.tenant;
  return { url, headers };
}

export async function importSavedObjects(ndjson: string, options: ImportOptions): Promise<ImportReport> {
  const { url, headers } = importTarget(options);
  // The multipart body, encoded by the platform's FormData.
  const form = new FormData();
  form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), 'patchloop.ndjson');
  const multipart = new Response(form);
  headers['content-type'] = multipart.headers.get('content-type') as string;
  const body = Buffer.from(await multipart.arrayBuffer());
  const pool = options.caFile ? createPool({ caFile: options.caFile, connections: 1 }) : undefined;
  const where = `POST ${url.origin}${url.pathname}`;
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    let status: number;
    let text: string;
    try {
      const answer = await send(url, { method: 'POST', headers, body, pool, timeoutMs });
      status = answer.statusCode;
      text = (await readBody(answer, where, timeoutMs)).toString('utf8');
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      throw new PatchloopError(
        'PL_E_DASHBOARDS_IMPORT',
        `${where}: cannot reach ${options.flavor === 'kibana' ? 'Kibana' : 'OpenSearch Dashboards'} (${err.reason})`,
      );
    }
    if (status === 401 || status === 403)
      throw new PatchloopError(
        'PL_E_DASHBOARDS_IMPORT',
        `${where}: HTTP ${status}: check the credentials (${text.slice(0, 200)})`,
      );
    if (status !== 200)
      throw new PatchloopError('PL_E_DASHBOARDS_IMPORT', `${where}: HTTP ${status} ${text.slice(0, 300)}`);
    const answer = jsonOrNull(text);
    if (answer === null)
      throw new PatchloopError('PL_E_DASHBOARDS_IMPORT', `${where}: the answer is not JSON: ${text.slice(0, 200)}`);
    const parsed = answerSchema.safeParse(answer);
    if (!parsed.success)
      throw new PatchloopError('PL_E_DASHBOARDS_IMPORT', `${where}: unexpected answer ${text.slice(0, 300)}`);
    const errors = (parsed.data.errors ?? []).map((e) => ({
      id: e.id,
      type: e.type,
      error: [e.error.type, typeof e.error.message === 'string' ? e.error.message : ''].filter(Boolean).join(': '),
    }));
    return { successCount: parsed.data.successCount, errors };
  } finally {
    await pool?.close();
  }
}
