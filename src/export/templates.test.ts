import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditDocument, type AuditRecord } from './audit.ts';
import {
  findingDocument,
  hostStateDocument,
  hostSummaryDocument,
  patchRunDocument,
  vulnerabilityEventDocument,
} from './ecs.ts';
import { DEFAULT_RETENTION, ilmPolicy, ismPolicy, policySpecs } from './lifecycle.ts';
import { exportNames } from './names.ts';
import { detectProduct, type Product } from './product.ts';
import type { FindingRecord, HostDaySummaryRecord, HostStateRecord, PatchRunRecord } from './records.ts';
import { buildTemplates, type IndexTemplate } from './templates.ts';

const opensearch = detectProduct({ version: { distribution: 'opensearch', number: '2.19.6' } }, {});
const elasticsearch = detectProduct({ version: { number: '8.15.2' } }, { 'x-elastic-product': 'Elasticsearch' });
const serverless = detectProduct(
  { version: { number: '8.11.0', build_flavor: 'serverless' } },
  { 'x-elastic-product': 'Elasticsearch' },
);
const names = exportNames('acme');

function templateFor(product: Product, target: string): IndexTemplate {
  const found = buildTemplates(product, names, DEFAULT_RETENTION).indexTemplates.find((t) => t.target === target);
  assert.ok(found, target);
  return found;
}

test('Elasticsearch data streams name their ILM policy; OpenSearch templates carry no lifecycle setting', () => {
  const es = templateFor(elasticsearch, names.vulnerabilityEvents).body as {
    template: { settings?: unknown; lifecycle?: unknown };
  };
  assert.deepEqual(es.template.settings, { index: { lifecycle: { name: 'acme-events' } } });
  assert.equal(es.template.lifecycle, undefined);
  assert.deepEqual((templateFor(elasticsearch, names.hostSummaries).body as { template: unknown }).template, {
    settings: { index: { lifecycle: { name: 'acme-summaries' } } },
  });
  // OpenSearch rejects the unknown index.lifecycle.* settings; ISM attaches by pattern instead.
  for (const t of buildTemplates(opensearch, names, DEFAULT_RETENTION).indexTemplates) {
    assert.deepEqual((t.body as { template: unknown }).template, {}, t.name);
  }
  const sl = templateFor(serverless, names.patchEvents).body as {
    template: { settings?: unknown; lifecycle?: unknown };
  };
  assert.deepEqual(sl.template, { lifecycle: { data_retention: '400d' } });
  const settingsOf = (product: Product) =>
    buildTemplates(product, names, DEFAULT_RETENTION)
      .components.filter((c) => c.name.includes('settings'))
      .map((c) => c.body.template);
  assert.deepEqual(settingsOf(elasticsearch), [
    { settings: { index: { number_of_shards: 1, auto_expand_replicas: '0-1', refresh_interval: '5s' } } },
    { settings: { index: { number_of_shards: 1, auto_expand_replicas: '0-1' } } },
  ]);
  assert.deepEqual(
    settingsOf(serverless),
    [{ settings: { index: {} } }, { settings: { index: {} } }],
    'Serverless manages shards itself',
  );
  // The state index is never rolled over or deleted by a policy.
  assert.deepEqual((templateFor(elasticsearch, names.findings).body as { template: unknown }).template, {});
});

test('data stream templates for events, a plain index template for the state', () => {
  const set = buildTemplates(opensearch, names, DEFAULT_RETENTION);
  assert.deepEqual(
    set.indexTemplates.map((t) => [t.name, t.target, t.dataStream, 'data_stream' in t.body]),
    [
      ['acme-findings', 'acme-findings', false, false],
      ['acme-events-vulnerability', 'acme-events-vulnerability', true, true],
      ['acme-events-patch', 'acme-events-patch', true, true],
      ['acme-summary-host', 'acme-summary-host', true, true],
      ['acme-audit', 'acme-audit', true, true],
      ['acme-hosts', 'acme-hosts', false, false],
    ],
  );
  const components = new Set(set.components.map((c) => c.name));
  for (const t of set.indexTemplates) {
    const body = t.body as { index_patterns: string[]; composed_of: string[]; priority: number };
    assert.deepEqual(body.index_patterns, [t.target], 'exact names: no template catches other indices');
    assert.ok(body.composed_of.every((c) => components.has(c)));
    assert.ok(body.priority > 100, 'above the built-in logs-*/metrics-* templates');
  }
});

/** Leaf field types of a mapping, by dotted path. */
function fieldTypes(properties: Record<string, unknown>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, mapping] of Object.entries(properties)) {
    const m = mapping as { type?: string; properties?: Record<string, unknown> };
    if (m.properties) for (const [k, v] of fieldTypes(m.properties, `${prefix}${name}.`)) out.set(k, v);
    else out.set(`${prefix}${name}`, m.type as string);
  }
  return out;
}

function leafPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => leafPaths(v, prefix));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}

test('every field the ECS mapping writes is mapped explicitly, with a type both products know', () => {
  const host = {
    id: 'h1',
    name: 'web-01',
    os: {
      id: 'debian',
      version_id: '12',
      codename: 'bookworm',
      pretty_name: 'Debian GNU/Linux 12 (bookworm)',
      id_like: [],
    },
    kernel: '6.1.0-40-amd64',
    arch: 'x86_64',
    group: 'web',
    tags: ['prod'],
    ip: ['192.0.2.10'],
  };
  const finding: FindingRecord = {
    host,
    agent: { id: 'h1', version: '0.1.0', name: 'agent-web-01' },
    package: {
      name: 'libssl3',
      version: '3.0.13-1~deb12u1',
      arch: 'amd64',
      source: 'openssl',
      source_version: '3.0.13-1~deb12u1',
      format: 'deb',
    },
    vulnerability: {
      id: 'CVE-2024-6119',
      aliases: ['GHSA-x'],
      severity: 'high',
      raw_severity: 'medium',
      description: 'text',
      references: ['https://security-tracker.debian.org/tracker/CVE-2024-6119'],
      score: { base: 7.5, version: '3.1' },
      published: '2024-09-03T16:15:00Z',
    },
    status: 'fixed',
    raw_status: 'resolved',
    fixed_version: '3.0.14-1~deb12u2',
    feed: 'debian',
    advisory_ids: ['DSA-5764-1'],
    state: 'resolved',
    first_seen: '2026-03-02T06:00:00Z',
    opened_at: '2026-03-02T06:00:00Z',
    last_seen: '2026-03-04T06:00:00Z',
    fixed_at: '2026-03-05T06:00:00Z',
    sla_due: '2026-04-01T06:00:00Z',
    updated_at: '2026-03-05T06:00:00Z',
    scan_id: 's1',
    kernel_not_running: false,
  };
  const run: PatchRunRecord = {
    id: 'r1',
    host,
    agent: finding.agent,
    tool: 'unattended-upgrades',
    started_at: '2026-03-03T02:00:00Z',
    ended_at: '2026-03-03T02:01:00Z',
    outcome: 'success',
    result: 'success',
    trigger: 'scheduled',
    packages: [{ name: 'libssl3', arch: 'amd64', from_version: 'a', to_version: 'b', action: 'upgrade' }],
    reboot_required: false,
    error: 'none',
  };
  const summary: HostDaySummaryRecord = {
    host,
    agent: finding.agent,
    date: '2026-03-04',
    at: '2026-03-04T23:00:00Z',
    open: { critical: 1, high: 1, medium: 1, low: 1, negligible: 1, unknown: 1 },
    fixable: 1,
    sla_breached: 1,
    detected: 1,
    resolved: 1,
    reboot_required: true,
    pending_updates: 3,
    security_updates: 1,
    last_scan_at: '2026-03-04T06:00:00Z',
  };
  const hostState: HostStateRecord = {
    host,
    agent: finding.agent,
    state: 'stale',
    enrolled_at: '2026-03-01T06:00:00Z',
    last_seen: '2026-03-04T06:00:00Z',
    distro: 'debian',
    release: 'bookworm',
    reboot_required: true,
    kernel_newer: false,
    package_count: 729,
    open: { critical: 1, high: 1, medium: 1, low: 1, negligible: 1, unknown: 1 },
    fixable: { critical: 1, high: 0, medium: 0, low: 0, negligible: 0, unknown: 0 },
    match_error: 'none',
  };
  const docs: [string, unknown][] = [
    [names.hosts, hostStateDocument(hostState)],
    [names.findings, findingDocument(finding)],
    [
      names.vulnerabilityEvents,
      vulnerabilityEventDocument({ action: 'resolved', at: '2026-03-05T06:00:00Z', finding }),
    ],
    [names.patchEvents, patchRunDocument(run)],
    [names.hostSummaries, hostSummaryDocument(summary)],
  ];
  const portable = new Set(['keyword', 'text', 'date', 'long', 'integer', 'byte', 'float', 'boolean', 'ip']);
  for (const product of [opensearch, elasticsearch]) {
    for (const [target, doc] of docs) {
      const mapping = templateFor(product, target).mappings as {
        dynamic: boolean;
        properties: Record<string, unknown>;
      };
      assert.equal(mapping.dynamic, false);
      const types = fieldTypes(mapping.properties);
      for (const path of leafPaths(doc)) assert.ok(types.has(path), `${target}: ${path} is written but not mapped`);
      for (const [path, type] of types) assert.ok(portable.has(type), `${path}: ${type}`);
    }
  }
});

test('audit documents: ECS event, user and source fields mapped; the states before and after kept in _source only', () => {
  const entry: AuditRecord = {
    id: 7,
    at: '2026-11-01T10:00:00.000Z',
    actor: { kind: 'token', name: 'olga', user_id: 3, token_id: 12, role: 'operator' },
    address: '192.0.2.7',
    action: 'user.update',
    target: { type: 'user', id: 'victor' },
    outcome: 'denied',
    reason: 'needs the admin role',
    before: { role: 'viewer', display_name: null },
    after: { role: 'admin', display_name: null },
  };
  const doc = auditDocument(entry) as Record<string, Record<string, unknown>>;
  assert.deepEqual(doc.event.category, ['iam']);
  assert.deepEqual(doc.event.type, ['user', 'change', 'denied']);
  assert.deepEqual(
    [doc.event.action, doc.event.outcome, doc.event.dataset],
    ['user.update', 'failure', 'patchloop.audit'],
  );
  assert.deepEqual(doc.user, { name: 'olga', id: '3', roles: ['operator'], target: { name: 'victor' } });
  assert.deepEqual(doc.source, { ip: '192.0.2.7' });
  const audit = (doc.patchloop as { audit: Record<string, unknown> }).audit;
  assert.deepEqual([audit.outcome, audit.actor_kind, audit.token_id], ['denied', 'token', 12]);
  assert.deepEqual(audit.before, { role: 'viewer', display_name: null }, 'the state as written, nulls included');
  for (const product of [opensearch, elasticsearch]) {
    const mapping = templateFor(product, names.audit).mappings as {
      dynamic: boolean;
      properties: Record<string, unknown>;
    };
    assert.equal(mapping.dynamic, false);
    const types = fieldTypes(mapping.properties);
    for (const path of leafPaths(doc)) {
      if (/^patchloop\.audit\.(before|after)\./.test(path)) assert.ok(!types.has(path), path);
      else assert.ok(types.has(path), `${names.audit}: ${path} is written but not mapped`);
    }
    assert.equal(types.get('source.ip'), 'ip');
    assert.equal(types.get('user.name'), 'keyword');
  }
  // Its own lifecycle policy, 800 days by default.
  const spec = policySpecs(names, DEFAULT_RETENTION).find((p) => p.dataStreams.includes(names.audit));
  assert.deepEqual([spec?.id, spec?.retentionDays], ['acme-audit', 800]);
  assert.deepEqual((templateFor(elasticsearch, names.audit).body as { template: unknown }).template, {
    settings: { index: { lifecycle: { name: 'acme-audit' } } },
  });
});

test('lifecycle policies: ILM phases for Elasticsearch, ISM states with ism_template on backing indices for OpenSearch', () => {
  const [events, summaries] = policySpecs(names, { ...DEFAULT_RETENTION, eventsDays: 90 });
  assert.deepEqual(events.dataStreams, ['acme-events-vulnerability', 'acme-events-patch']);
  assert.deepEqual(summaries.dataStreams, ['acme-summary-host']);
  const ilm = ilmPolicy(events, DEFAULT_RETENTION) as {
    policy: { phases: Record<string, { min_age: string; actions: Record<string, unknown> }> };
  };
  assert.deepEqual(Object.keys(ilm.policy.phases), ['hot', 'delete']);
  assert.deepEqual(ilm.policy.phases.hot.actions.rollover, { max_age: '30d', max_primary_shard_size: '50gb' });
  assert.equal(ilm.policy.phases.delete.min_age, '90d');
  const ism = ismPolicy(events, DEFAULT_RETENTION) as {
    policy: {
      default_state: string;
      states: { name: string; transitions: { state_name: string; conditions: unknown }[] }[];
      ism_template: { index_patterns: string[] }[];
    };
  };
  assert.equal(ism.policy.default_state, 'hot');
  assert.deepEqual(
    ism.policy.states.map((s) => s.name),
    ['hot', 'delete'],
  );
  assert.deepEqual(ism.policy.states[0].transitions, [{ state_name: 'delete', conditions: { min_index_age: '90d' } }]);
  assert.deepEqual(ism.policy.ism_template[0].index_patterns, [
    '.ds-acme-events-vulnerability-*',
    '.ds-acme-events-patch-*',
  ]);
});

test('prefixes that would make bad index names are refused', () => {
  for (const bad of ['', 'Upper', '-dash', '_under', 'a*', 'a,b', 'a b', 'a/b', 'x'.repeat(65)]) {
    assert.throws(() => exportNames(bad), /index prefix/, JSON.stringify(bad));
  }
  assert.equal(exportNames('fleet.prod_2').findings, 'fleet.prod_2-findings');
});
