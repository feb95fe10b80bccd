// Component and index templates with explicit mappings for the state index and the event
// data streams. Only types both products share (keyword, text, date, numeric, boolean,
// ip, object): no `version`, `constant_keyword`, `wildcard`, `flattened`, `match_only_text`.
import type { Product } from './product.ts';
import { lifecycleKind } from './product.ts';
import type { ExportNames } from './names.ts';
import { policySpecs, type RetentionSettings } from './lifecycle.ts';
import { auditProperties } from './audit.ts';

/** Bumped whenever a mapping changes; recorded in every template's `_meta`. */
export const TEMPLATE_VERSION = 3;

type Mapping = Record<string, unknown>;

const keyword: Mapping = { type: 'keyword', ignore_above: 1024 };
const date: Mapping = { type: 'date' };
const long: Mapping = { type: 'long' };
const integer: Mapping = { type: 'integer' };
const boolean: Mapping = { type: 'boolean' };
/** Searchable text that still aggregates: keyword with a `text` sub-field. */
const keywordWithText: Mapping = { type: 'keyword', ignore_above: 1024, fields: { text: { type: 'text' } } };

function object(properties: Record<string, Mapping>): Mapping {
  return { properties };
}

/** Fields of every patchloop document: ECS base, event, host, agent, error. */
function baseProperties(): Record<string, Mapping> {
  return {
    '@timestamp': date,
    ecs: object({ version: keyword }),
    event: object({
      kind: keyword,
      category: keyword,
      type: keyword,
      action: keyword,
      outcome: keyword,
      dataset: keyword,
      module: keyword,
      id: keyword,
      created: date,
      start: date,
      end: date,
      duration: long,
    }),
    host: object({
      id: keyword,
      name: keyword,
      hostname: keyword,
      architecture: keyword,
      ip: { type: 'ip' },
      os: object({
        type: keyword,
        platform: keyword,
        family: keyword,
        full: keywordWithText,
        version: keyword,
        kernel: keyword,
      }),
    }),
    agent: object({ id: keyword, name: keyword, type: keyword, version: keyword }),
    error: object({ message: { type: 'text' } }),
    package: object({ name: keyword }),
    patchloop: object({ host: object({ group: keyword, tags: keyword, os_codename: keyword }) }),
  };
}

function vulnerabilityProperties(): Record<string, Mapping> {
  return {
    package: object({ name: keyword, version: keyword, architecture: keyword, type: keyword, fixed_version: keyword }),
    vulnerability: object({
      id: keyword,
      enumeration: keyword,
      severity: keyword,
      description: keywordWithText,
      reference: keyword,
      category: keyword,
      classification: keyword,
      score: object({ base: { type: 'float' }, version: keyword }),
      scanner: object({ vendor: keyword }),
      report_id: keyword,
      status: keyword,
    }),
    patchloop: object({
      finding_id: keyword,
      status: keyword,
      raw_status: keyword,
      severity_rank: { type: 'byte' },
      raw_severity: keyword,
      fix_available: boolean,
      feed: keyword,
      advisory_ids: keyword,
      aliases: keyword,
      published: date,
      kernel_not_running: boolean,
      exposure: object({ id: keyword, lead: boolean }),
      state: keyword,
      exception_id: { type: 'long' },
      first_seen: date,
      opened_at: date,
      last_seen: date,
      fixed_at: date,
      sla_due: date,
      sla_missed: boolean,
      updated_at: date,
      package: object({ source: keyword, source_version: keyword }),
      known_exploited: boolean,
      kev: object({ date_added: date, due_date: date, ransomware: boolean }),
      epss: object({ score: { type: 'float' }, percentile: { type: 'float' }, date: date }),
      cvss_vector: keyword,
      priority: object({ level: keyword, rank: { type: 'byte' }, reason: keyword }),
    }),
  };
}

function patchProperties(): Record<string, Mapping> {
  return {
    patchloop: object({
      patch: object({
        run_id: keyword,
        tool: keyword,
        result: keyword,
        trigger: keyword,
        reboot_required: boolean,
        package_count: integer,
        packages: object({ name: keyword, arch: keyword, from_version: keyword, to_version: keyword, action: keyword }),
      }),
    }),
  };
}

function summaryProperties(): Record<string, Mapping> {
  const counts = object({
    critical: integer,
    high: integer,
    medium: integer,
    low: integer,
    negligible: integer,
    unknown: integer,
    total: integer,
  });
  return {
    patchloop: object({
      summary: object({
        date: { type: 'date', format: 'strict_date' },
        open: counts,
        fixable: integer,
        sla_breached: integer,
        detected: integer,
        resolved: integer,
        compliant: boolean,
        reboot_required: boolean,
        pending_updates: integer,
        security_updates: integer,
        last_scan_at: date,
      }),
    }),
  };
}

function severityCountProperties(): Mapping {
  return object({
    critical: integer,
    high: integer,
    medium: integer,
    low: integer,
    negligible: integer,
    unknown: integer,
    total: integer,
  });
}

function hostStateProperties(): Record<string, Mapping> {
  return {
    patchloop: object({
      host: object({
        state: keyword,
        enrolled_at: date,
        last_seen: date,
        distro: keyword,
        release: keyword,
        reboot_required: boolean,
        kernel_newer: boolean,
        reboot_pending: boolean,
        package_count: integer,
        open: severityCountProperties(),
        fixable: severityCountProperties(),
        match_error: { type: 'text' },
      }),
    }),
  };
}

/**
 * Mapping roots: `dynamic: false` keeps unknown fields in `_source` without indexing them
 * (a new field from a newer agent cannot break ingestion or explode the mapping);
 * `date_detection: false` stops strings that look like dates from becoming dates.
 */
function mappings(properties: Record<string, Mapping>): Mapping {
  return { dynamic: false, date_detection: false, properties };
}

/** Deep merge of property trees, as the cluster merges component templates. */
export function mergeProperties(...trees: Record<string, Mapping>[]): Record<string, Mapping> {
  const out: Record<string, Mapping> = {};
  for (const tree of trees) {
    for (const [name, mapping] of Object.entries(tree)) {
      const existing = out[name];
      if (existing && 'properties' in existing && 'properties' in mapping) {
        out[name] = {
          ...existing,
          ...mapping,
          properties: mergeProperties(
            existing.properties as Record<string, Mapping>,
            mapping.properties as Record<string, Mapping>,
          ),
        };
      } else {
        out[name] = mapping;
      }
    }
  }
  return out;
}

export interface ComponentTemplate {
  name: string;
  body: Record<string, unknown>;
}

export interface IndexTemplate {
  name: string;
  body: Record<string, unknown>;
  /** The index or data stream this template is for. */
  target: string;
  dataStream: boolean;
  /** Full mapping of the target, for updating an existing index in place. */
  mappings: Mapping;
}

export interface TemplateSet {
  components: ComponentTemplate[];
  indexTemplates: IndexTemplate[];
}

/** Every template body for this product; pure, so both products' choices are unit-tested. */
export function buildTemplates(product: Product, names: ExportNames, retention: RetentionSettings): TemplateSet {
  const meta = { managed_by: 'patchloop', version: TEMPLATE_VERSION };
  const c = names.components;
  const props = {
    [c.base]: baseProperties(),
    [c.vulnerability]: vulnerabilityProperties(),
    [c.patch]: patchProperties(),
    [c.summary]: summaryProperties(),
    [c.host]: hostStateProperties(),
    [c.audit]: auditProperties(keyword),
  };
  // One shard is plenty for these volumes; a replica wherever a second node exists.
  // Serverless refuses shard and replica settings (it manages them itself).
  const indexSettings = product.serverless ? {} : { number_of_shards: 1, auto_expand_replicas: '0-1' };
  const stateSettings = product.serverless ? {} : { ...indexSettings, refresh_interval: '5s' };
  const components: ComponentTemplate[] = [
    ...Object.entries(props).map(([name, properties]) => ({
      name,
      body: { template: { mappings: mappings(properties) }, _meta: meta },
    })),
    { name: c.stateSettings, body: { template: { settings: { index: stateSettings } }, _meta: meta } },
    { name: c.eventSettings, body: { template: { settings: { index: indexSettings } }, _meta: meta } },
  ];

  const lifecycle = lifecycleKind(product);
  const policies = policySpecs(names, retention);
  const policyFor = (stream: string) => policies.find((p) => p.dataStreams.includes(stream));

  const dataStreamTemplate = (name: string, target: string, parts: string[]): IndexTemplate => {
    const policy = policyFor(target);
    const template: Record<string, unknown> = {};
    if (policy && lifecycle === 'ilm') template.settings = { index: { lifecycle: { name: policy.id } } };
    if (policy && lifecycle === 'data_stream_lifecycle')
      template.lifecycle = { data_retention: `${policy.retentionDays}d` };
    // OpenSearch: nothing here; the ISM policy's ism_template picks the backing indices.
    return {
      name,
      target,
      dataStream: true,
      mappings: mappings(mergeProperties(...parts.map((p) => props[p]))),
      body: {
        index_patterns: [target],
        data_stream: {},
        composed_of: [...parts, c.eventSettings],
        priority: 200,
        template,
        _meta: meta,
      },
    };
  };

  const indexTemplates: IndexTemplate[] = [
    {
      name: names.templates.findings,
      target: names.findings,
      dataStream: false,
      mappings: mappings(mergeProperties(props[c.base], props[c.vulnerability])),
      body: {
        index_patterns: [names.findings],
        composed_of: [c.base, c.vulnerability, c.stateSettings],
        priority: 200,
        template: {},
        _meta: meta,
      },
    },
    dataStreamTemplate(names.templates.vulnerabilityEvents, names.vulnerabilityEvents, [c.base, c.vulnerability]),
    dataStreamTemplate(names.templates.patchEvents, names.patchEvents, [c.base, c.patch]),
    dataStreamTemplate(names.templates.hostSummaries, names.hostSummaries, [c.base, c.summary]),
    dataStreamTemplate(names.templates.audit, names.audit, [c.base, c.audit]),
    {
      name: names.templates.hosts,
      target: names.hosts,
      dataStream: false,
      mappings: mappings(mergeProperties(props[c.base], props[c.host])),
      body: {
        index_patterns: [names.hosts],
        composed_of: [c.base, c.host, c.stateSettings],
        priority: 200,
        template: {},
        _meta: meta,
      },
    },
  ];
  return { components, indexTemplates };
}
