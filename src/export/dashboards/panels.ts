// The dashboard's panels, defined once: each panel's data view, query and aggregations.
// The saved objects for Kibana and OpenSearch Dashboards are generated from these
// (saved-objects.ts), and the tests run the aggregations of the generated objects against a
// real cluster and compare them with the server's own statistics (request.ts).
//
// Queries are Lucene syntax (both products accept it in saved searches and `filters`
// aggregations). Date math is written `["now-89d/d" TO *]`: quoted, in a bracket range,
// which both products' query_string parsers take; `/d` rounds to the day (in the time zone
// the dashboards use: set it to UTC to count days as the server does).

/** The data views (index patterns) the panels read, by role. */
export type DataViewKey = 'findings' | 'hosts' | 'vulnerabilityEvents' | 'patchEvents' | 'hostSummaries';

export type MetricSpec =
  | { type: 'count'; label?: string }
  | { type: 'avg' | 'sum' | 'max' | 'min' | 'cardinality'; field: string; label?: string };

export type BucketSpec =
  | {
      type: 'terms';
      field: string;
      size: number;
      /** Order by the panel's first metric (descending) or by the term itself (ascending). */
      orderBy: 'metric' | 'key';
      label?: string;
    }
  | { type: 'filters'; filters: { label: string; query: string }[] }
  | { type: 'date_histogram'; field: string; interval: 'd' | 'w'; label?: string };

export type VisType = 'metric' | 'table' | 'pie' | 'histogram' | 'horizontal_bar' | 'line';

export interface PanelSpec {
  /** Stable id suffix: the saved object id is `<prefix>-<id>`. */
  id: string;
  title: string;
  description: string;
  vis: VisType;
  dataView: DataViewKey;
  /** Lucene query the panel's search applies ('' for none). */
  query: string;
  metrics: MetricSpec[];
  /** Bucket aggregations, outermost first. */
  buckets: BucketSpec[];
  /** Place on the dashboard's 48-column grid. */
  grid: { x: number; y: number; w: number; h: number };
}

/**
 * What every count counts: exposures, one per vulnerability in a source package of a host
 * (core/exposure.ts). The state index holds a document per binary package's finding; the one
 * that leads its exposure counts, the others (`patchloop.exposure.lead: false`) do not.
 * Documents written before exposures (no lead field) count as they did.
 */
export const COUNTED = 'NOT patchloop.exposure.lead:false';
/** Findings that are open as far as anyone knows: open, reopened, or on a host gone silent. */
export const OPEN_FINDINGS = `patchloop.state:(open OR reopened OR stale) AND ${COUNTED}`;
/** The server's statistics window for time to remediate and resolutions within SLA. */
export const LAST_90_DAYS = '@timestamp:["now-89d/d" TO *]';
const RESOLVED = `event.action:"vulnerability-resolved" AND ${COUNTED}`;

const SEVERITY_TERMS: BucketSpec = {
  type: 'terms',
  field: 'vulnerability.severity',
  size: 6,
  orderBy: 'key',
  label: 'Severity',
};

export const PANELS: readonly PanelSpec[] = [
  {
    id: 'open-by-severity',
    title: 'Open findings by severity',
    description:
      'Findings open now (one per vulnerability and source package, including those on hosts that stopped reporting), by severity.',
    vis: 'pie',
    dataView: 'findings',
    query: OPEN_FINDINGS,
    metrics: [{ type: 'count', label: 'Open findings' }],
    buckets: [SEVERITY_TERMS],
    grid: { x: 0, y: 0, w: 16, h: 14 },
  },
  {
    id: 'fixable-now',
    title: 'Fixable now',
    description: 'Open findings for which the distribution has published a fixed version: patching closes them.',
    vis: 'metric',
    dataView: 'findings',
    query: `${OPEN_FINDINGS} AND patchloop.status:fixed`,
    metrics: [{ type: 'count', label: 'Fixable findings' }],
    buckets: [SEVERITY_TERMS],
    grid: { x: 16, y: 0, w: 32, h: 14 },
  },
  {
    id: 'most-vulnerable-hosts',
    title: 'Most vulnerable hosts',
    description: 'Hosts with the most open findings.',
    vis: 'horizontal_bar',
    dataView: 'findings',
    query: OPEN_FINDINGS,
    metrics: [{ type: 'count', label: 'Open findings' }],
    buckets: [{ type: 'terms', field: 'host.name', size: 10, orderBy: 'metric', label: 'Host' }],
    grid: { x: 0, y: 14, w: 24, h: 16 },
  },
  {
    id: 'most-widespread-vulnerabilities',
    title: 'Most widespread vulnerabilities',
    description: 'Vulnerabilities open on the most hosts, with the number of open findings.',
    vis: 'table',
    dataView: 'findings',
    query: OPEN_FINDINGS,
    metrics: [
      { type: 'cardinality', field: 'host.id', label: 'Hosts' },
      { type: 'count', label: 'Findings' },
    ],
    buckets: [{ type: 'terms', field: 'vulnerability.id', size: 10, orderBy: 'metric', label: 'Vulnerability' }],
    grid: { x: 24, y: 14, w: 24, h: 16 },
  },
  {
    id: 'new-vs-resolved',
    title: 'New vs resolved findings per day',
    description:
      'Findings (per vulnerability and source package) detected or reopened, and findings resolved, per day.',
    vis: 'histogram',
    dataView: 'vulnerabilityEvents',
    query: COUNTED,
    metrics: [{ type: 'count', label: 'Findings' }],
    buckets: [
      { type: 'date_histogram', field: '@timestamp', interval: 'd', label: 'Day' },
      {
        type: 'filters',
        filters: [
          { label: 'new', query: 'event.action:("vulnerability-detected" OR "vulnerability-reopened")' },
          { label: 'resolved', query: RESOLVED },
        ],
      },
    ],
    grid: { x: 0, y: 30, w: 48, h: 14 },
  },
  {
    id: 'mttr-by-severity',
    title: 'Mean time to remediate by severity (90 days)',
    description: 'Mean time from detection (or reopening) to resolution of the findings resolved in the last 90 days.',
    vis: 'table',
    dataView: 'vulnerabilityEvents',
    query: `${RESOLVED} AND ${LAST_90_DAYS}`,
    metrics: [
      { type: 'avg', field: 'event.duration', label: 'Mean time to remediate' },
      { type: 'count', label: 'Resolved' },
    ],
    buckets: [SEVERITY_TERMS],
    grid: { x: 0, y: 44, w: 16, h: 14 },
  },
  {
    id: 'sla-open',
    title: 'Open findings within SLA',
    description: 'Open findings by severity: still within their SLA, or past their due date.',
    vis: 'table',
    dataView: 'findings',
    query: OPEN_FINDINGS,
    metrics: [{ type: 'count', label: 'Findings' }],
    buckets: [
      SEVERITY_TERMS,
      {
        type: 'filters',
        filters: [
          { label: 'within SLA', query: 'patchloop.sla_due:["now/d" TO *]' },
          { label: 'overdue', query: 'patchloop.sla_due:[* TO "now/d"}' },
        ],
      },
    ],
    grid: { x: 16, y: 44, w: 16, h: 14 },
  },
  {
    id: 'sla-resolved',
    title: 'Resolved within SLA (90 days)',
    description: 'Findings resolved in the last 90 days, by severity: within their SLA, or after it.',
    vis: 'table',
    dataView: 'vulnerabilityEvents',
    query: `${RESOLVED} AND ${LAST_90_DAYS}`,
    metrics: [{ type: 'count', label: 'Resolved' }],
    buckets: [
      SEVERITY_TERMS,
      {
        type: 'filters',
        filters: [
          { label: 'within SLA', query: 'patchloop.sla_missed:false' },
          { label: 'late', query: 'patchloop.sla_missed:true' },
        ],
      },
    ],
    grid: { x: 32, y: 44, w: 16, h: 14 },
  },
  {
    id: 'hosts-reporting',
    title: 'Hosts reporting',
    description: 'Hosts by reporting state: reporting, not reporting (stale), never reported.',
    vis: 'pie',
    dataView: 'hosts',
    query: '',
    metrics: [{ type: 'count', label: 'Hosts' }],
    buckets: [{ type: 'terms', field: 'patchloop.host.state', size: 3, orderBy: 'key', label: 'State' }],
    grid: { x: 0, y: 58, w: 16, h: 14 },
  },
  {
    id: 'hosts-not-reporting',
    title: 'Hosts not reporting',
    description: 'Hosts that reported before but not within the stale threshold, with their last report.',
    vis: 'table',
    dataView: 'hosts',
    query: 'patchloop.host.state:stale',
    metrics: [{ type: 'max', field: 'patchloop.host.last_seen', label: 'Last report' }],
    buckets: [{ type: 'terms', field: 'host.name', size: 50, orderBy: 'key', label: 'Host' }],
    grid: { x: 16, y: 58, w: 16, h: 14 },
  },
  {
    id: 'reboots-pending',
    title: 'Reboots pending',
    description: 'Hosts that need a reboot: the reboot-required flag, or a newer kernel than the running one.',
    vis: 'table',
    dataView: 'hosts',
    query: 'patchloop.host.reboot_pending:true',
    metrics: [{ type: 'count', label: 'Hosts' }],
    buckets: [{ type: 'terms', field: 'host.name', size: 50, orderBy: 'key', label: 'Host' }],
    grid: { x: 32, y: 58, w: 16, h: 14 },
  },
  {
    id: 'patch-runs',
    title: 'Patch runs by outcome',
    description: 'Patch runs per day, by outcome.',
    vis: 'histogram',
    dataView: 'patchEvents',
    query: '',
    metrics: [{ type: 'count', label: 'Runs' }],
    buckets: [
      { type: 'date_histogram', field: '@timestamp', interval: 'd', label: 'Day' },
      { type: 'terms', field: 'event.outcome', size: 3, orderBy: 'key', label: 'Outcome' },
    ],
    grid: { x: 0, y: 72, w: 32, h: 14 },
  },
  {
    id: 'patch-failures',
    title: 'Failed patch runs by host',
    description: 'Hosts with failed patch runs.',
    vis: 'table',
    dataView: 'patchEvents',
    query: 'event.outcome:failure',
    metrics: [{ type: 'count', label: 'Failed runs' }],
    buckets: [{ type: 'terms', field: 'host.name', size: 20, orderBy: 'metric', label: 'Host' }],
    grid: { x: 32, y: 72, w: 16, h: 14 },
  },
  {
    id: 'open-trend',
    title: 'Open findings per day (host summaries)',
    description: "Open findings at the end of each day, summed over the hosts' daily summaries.",
    vis: 'line',
    dataView: 'hostSummaries',
    query: '',
    metrics: [{ type: 'sum', field: 'patchloop.summary.open.total', label: 'Open findings' }],
    buckets: [{ type: 'date_histogram', field: '@timestamp', interval: 'd', label: 'Day' }],
    grid: { x: 0, y: 86, w: 48, h: 14 },
  },
  {
    id: 'excepted',
    title: 'Excepted findings',
    description:
      'Findings held by an exception rule of the server (accepted risk, false positive, mitigated, fix planned): out of the open counts until the rule expires or is revoked.',
    vis: 'horizontal_bar',
    dataView: 'findings',
    query: `patchloop.state:excepted AND ${COUNTED}`,
    metrics: [{ type: 'count', label: 'Excepted findings' }],
    buckets: [{ type: 'terms', field: 'patchloop.exception_id', size: 20, orderBy: 'metric', label: 'Exception rule' }],
    grid: { x: 0, y: 100, w: 48, h: 14 },
  },
  {
    id: 'exploitation-priority',
    title: 'Known exploited, likely exploited and priority (open)',
    description:
      "Open findings whose vulnerability is in CISA's Known Exploited Vulnerabilities catalogue, those with an EPSS score of 10 % or more, and open findings by priority (P1 first), with the hosts they are on.",
    vis: 'table',
    dataView: 'findings',
    query: OPEN_FINDINGS,
    metrics: [
      { type: 'count', label: 'Open findings' },
      { type: 'cardinality', field: 'host.id', label: 'Hosts' },
    ],
    buckets: [
      {
        type: 'filters',
        filters: [
          { label: 'Known exploited (KEV)', query: 'patchloop.known_exploited:true' },
          { label: 'EPSS 10 % or more', query: 'patchloop.epss.score:>=0.1' },
          ...(['P1', 'P2', 'P3', 'P4'] as const).map((p) => ({ label: p, query: `patchloop.priority.level:${p}` })),
        ],
      },
    ],
    grid: { x: 0, y: 114, w: 48, h: 14 },
  },
];
