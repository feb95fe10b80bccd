// Puts patchloop's lifecycle policies, templates, state index and data streams into a
// cluster. Safe to run again: every step creates or updates in place.
import { z } from 'zod';
import { ClusterError, type SearchClient } from './client.ts';
import { DEFAULT_RETENTION, ilmPolicy, ismPolicy, policySpecs, type RetentionSettings } from './lifecycle.ts';
import { exportNames, type ExportNames } from './names.ts';
import { lifecycleKind, type Product } from './product.ts';
import { buildTemplates } from './templates.ts';

export interface InstallOptions {
  names?: ExportNames;
  retention?: Partial<RetentionSettings>;
}

export interface InstallReport {
  product: Product;
  /** How event retention is enforced; `skipped` when OpenSearch lacks the ISM plugin. */
  lifecycle: 'ilm' | 'ism' | 'data_stream_lifecycle' | 'skipped';
  policies: string[];
  componentTemplates: string[];
  indexTemplates: string[];
  /** Indices and data streams created by this run (existing ones had their mappings updated). */
  created: string[];
  warnings: string[];
}

/** The OpenSearch plugin that provides ISM (`_plugins/_ism`). */
export const ISM_PLUGIN = 'opensearch-index-management';

export async function installTemplates(client: SearchClient, options: InstallOptions = {}): Promise<InstallReport> {
  const names = options.names ?? exportNames();
  const retention = { ...DEFAULT_RETENTION, ...options.retention };
  const product = await client.info();
  const report: InstallReport = {
    product,
    lifecycle: lifecycleKind(product),
    policies: [],
    componentTemplates: [],
    indexTemplates: [],
    created: [],
    warnings: [],
  };

  // Policies before the data streams: ISM attaches a policy only to indices created after
  // it, and an ILM-managed index naming a missing policy sits in an error state.
  const specs = policySpecs(names, retention);
  if (report.lifecycle === 'ilm') {
    for (const spec of specs) {
      await client.request({
        method: 'PUT',
        path: `/_ilm/policy/${encodeURIComponent(spec.id)}`,
        body: ilmPolicy(spec, retention),
      });
      report.policies.push(spec.id);
    }
  } else if (report.lifecycle === 'ism') {
    if (await hasOpenSearchPlugin(client, ISM_PLUGIN)) {
      for (const spec of specs) {
        await putIsmPolicy(client, spec.id, ismPolicy(spec, retention));
        report.policies.push(spec.id);
      }
    } else {
      report.lifecycle = 'skipped';
      const warning = `OpenSearch at ${client.url} has no ISM plugin (${ISM_PLUGIN}): lifecycle policies skipped, event data streams are not rolled over or deleted automatically`;
      report.warnings.push(warning);
      client.logger.warn(warning);
    }
  }

  const templates = buildTemplates(product, names, retention);
  for (const component of templates.components) {
    await client.request({
      method: 'PUT',
      path: `/_component_template/${encodeURIComponent(component.name)}`,
      body: component.body,
    });
    report.componentTemplates.push(component.name);
  }
  for (const template of templates.indexTemplates) {
    await client.request({
      method: 'PUT',
      path: `/_index_template/${encodeURIComponent(template.name)}`,
      body: template.body,
    });
    report.indexTemplates.push(template.name);
  }

  for (const template of templates.indexTemplates) {
    const target = encodeURIComponent(template.target);
    const createPath = template.dataStream ? `/_data_stream/${target}` : `/${target}`;
    const created = await client.request({ method: 'PUT', path: createPath, accept: [400] });
    if (created.status < 300) {
      report.created.push(template.target);
      continue;
    }
    const type = errorType(created.body);
    if (type !== 'resource_already_exists_exception') {
      throw new ClusterError(
        `PUT ${client.url}${createPath}: HTTP 400 ${type ?? JSON.stringify(created.body).slice(0, 300)}`,
        400,
        type,
        false,
      );
    }
    // Templates only shape new indices; bring the existing one up to date (additive changes
    // apply, a conflicting one fails here with the cluster's reason).
    await client.request({ method: 'PUT', path: `/${target}/_mapping`, body: template.mappings });
  }
  return report;
}

const catPluginsSchema = z.array(z.object({ component: z.string() }));

export async function hasOpenSearchPlugin(client: SearchClient, plugin: string): Promise<boolean> {
  const response = await client.request({
    method: 'GET',
    path: '/_cat/plugins',
    query: { format: 'json', h: 'component' },
  });
  const parsed = catPluginsSchema.safeParse(response.body);
  if (!parsed.success)
    throw new ClusterError(`GET ${client.url}/_cat/plugins: unexpected answer`, response.status, null, false);
  return parsed.data.some((p) => p.component === plugin);
}

const ismGetSchema = z.object({ _seq_no: z.number(), _primary_term: z.number() });

/** ISM refuses a plain PUT over an existing policy: updates carry its seq_no/primary_term. */
async function putIsmPolicy(client: SearchClient, id: string, body: Record<string, unknown>): Promise<void> {
  const path = `/_plugins/_ism/policies/${encodeURIComponent(id)}`;
  const existing = await client.request({ method: 'GET', path, accept: [404] });
  if (existing.status === 404) {
    await client.request({ method: 'PUT', path, body });
    return;
  }
  const current = ismGetSchema.safeParse(existing.body);
  if (!current.success)
    throw new ClusterError(
      `GET ${client.url}${path}: answer lacks _seq_no/_primary_term`,
      existing.status,
      null,
      false,
    );
  await client.request({
    method: 'PUT',
    path,
    query: { if_seq_no: current.data._seq_no, if_primary_term: current.data._primary_term },
    body,
  });
}

function errorType(body: unknown): string | null {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (error && typeof error === 'object' && 'type' in error && typeof error.type === 'string') return error.type;
  }
  return null;
}
