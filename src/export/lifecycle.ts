// Lifecycle policies for the event data streams: ILM bodies for Elasticsearch, ISM bodies
// for OpenSearch. Both roll the write index over and delete whole backing indices after
// the retention period. (The state index is not rolled: its documents are purged one by
// one, since a finding's age is not its index's age.)
import type { ExportNames } from './names.ts';

export interface RetentionSettings {
  /** Days vulnerability and patch events are kept. */
  eventsDays: number;
  /** Days host day-summaries are kept (trend lines over longer spans). */
  summariesDays: number;
  /** Days audit log entries are kept. */
  auditDays: number;
  /** Roll the write index over after this many days ... */
  rolloverMaxAgeDays: number;
  /** ... or once its primary shard reaches this size. */
  rolloverMaxPrimaryShardSizeGb: number;
}

export const DEFAULT_RETENTION: RetentionSettings = {
  eventsDays: 400,
  summariesDays: 800,
  auditDays: 800,
  rolloverMaxAgeDays: 30,
  rolloverMaxPrimaryShardSizeGb: 50,
};

export interface PolicySpec {
  id: string;
  /** Data streams the policy governs. */
  dataStreams: string[];
  retentionDays: number;
}

export function policySpecs(names: ExportNames, retention: RetentionSettings): PolicySpec[] {
  return [
    {
      id: names.policies.events,
      dataStreams: [names.vulnerabilityEvents, names.patchEvents],
      retentionDays: retention.eventsDays,
    },
    { id: names.policies.summaries, dataStreams: [names.hostSummaries], retentionDays: retention.summariesDays },
    { id: names.policies.audit, dataStreams: [names.audit], retentionDays: retention.auditDays },
  ];
}

/** Elasticsearch ILM policy (`PUT _ilm/policy/<id>`). */
export function ilmPolicy(spec: PolicySpec, retention: RetentionSettings): Record<string, unknown> {
  return {
    policy: {
      _meta: { managed_by: 'patchloop', data_streams: spec.dataStreams },
      phases: {
        hot: {
          min_age: '0ms',
          actions: {
            rollover: {
              max_age: `${retention.rolloverMaxAgeDays}d`,
              max_primary_shard_size: `${retention.rolloverMaxPrimaryShardSizeGb}gb`,
            },
          },
        },
        delete: { min_age: `${spec.retentionDays}d`, actions: { delete: {} } },
      },
    },
  };
}

/**
 * OpenSearch ISM policy (`PUT _plugins/_ism/policies/<id>`). ISM attaches policies to new
 * indices by `ism_template` pattern; a data stream's backing indices are `.ds-<name>-*`.
 */
export function ismPolicy(spec: PolicySpec, retention: RetentionSettings): Record<string, unknown> {
  return {
    policy: {
      description: `patchloop: roll over, delete after ${spec.retentionDays} days (${spec.dataStreams.join(', ')})`,
      default_state: 'hot',
      states: [
        {
          name: 'hot',
          actions: [
            {
              rollover: {
                min_index_age: `${retention.rolloverMaxAgeDays}d`,
                min_primary_shard_size: `${retention.rolloverMaxPrimaryShardSizeGb}gb`,
              },
            },
          ],
          transitions: [{ state_name: 'delete', conditions: { min_index_age: `${spec.retentionDays}d` } }],
        },
        { name: 'delete', actions: [{ delete: {} }], transitions: [] },
      ],
      ism_template: [{ index_patterns: spec.dataStreams.map((name) => `.ds-${name}-*`), priority: 100 }],
    },
  };
}
