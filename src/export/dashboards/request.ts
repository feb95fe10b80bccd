// What a saved visualization asks the cluster: the search request Kibana / OpenSearch
// Dashboards build from its visState and saved search (Lucene queries become query_string,
// bucket aggregations nest in order, terms ordered by a metric carry that metric), and the
// rows they show from the answer. Tests use it to run exactly the aggregations of the
// saved objects against a real cluster.
import { z } from 'zod';
import type { SavedObject } from './saved-objects.ts';

const aggSchema = z.object({
  id: z.string(),
  enabled: z.boolean().default(true),
  type: z.string(),
  schema: z.string(),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type VisAgg = z.infer<typeof aggSchema>;

const visStateSchema = z.object({
  title: z.string(),
  type: z.string(),
  aggs: z.array(aggSchema),
  params: z.record(z.string(), z.unknown()),
});
const searchSourceSchema = z.object({
  query: z.object({ query: z.string(), language: z.enum(['lucene', 'kuery']) }),
  filter: z.array(z.unknown()),
  indexRefName: z.string(),
});

export const METRIC_TYPES = new Set(['count', 'avg', 'sum', 'max', 'min', 'cardinality']);
export const BUCKET_TYPES = new Set(['terms', 'filters', 'date_histogram']);

export interface PanelRequest {
  title: string;
  /** Index pattern title (the target searched). */
  index: string;
  timeField: string | null;
  body: Record<string, unknown>;
  metrics: VisAgg[];
  buckets: VisAgg[];
}

export interface RequestOptions {
  /** Anchor for `now` in date math (ISO instant): the tests' clock instead of the cluster's. */
  now?: string;
  /** Time zone for day rounding and daily buckets (the dashboards' dateFormat:tz). */
  timeZone?: string;
  /** The dashboard's time range, applied to the data view's time field. */
  timeRange?: { from: string; to: string };
}

/** The parsed parts of a visualization saved object (throws naming the object when malformed). */
export function parseVisualization(object: SavedObject): {
  visState: z.infer<typeof visStateSchema>;
  search: z.infer<typeof searchSourceSchema>;
  indexPatternId: string;
} {
  const where = `visualization ${object.id}`;
  const attributes = object.attributes as {
    visState?: unknown;
    kibanaSavedObjectMeta?: { searchSourceJSON?: unknown };
  };
  const vs = visStateSchema.safeParse(
    typeof attributes.visState === 'string' ? JSON.parse(attributes.visState) : undefined,
  );
  if (!vs.success)
    throw new Error(
      `${where}: visState: ${vs.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const raw = attributes.kibanaSavedObjectMeta?.searchSourceJSON;
  const ss = searchSourceSchema.safeParse(typeof raw === 'string' ? JSON.parse(raw) : undefined);
  if (!ss.success)
    throw new Error(
      `${where}: searchSourceJSON: ${ss.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const ref = object.references.find((r) => r.name === ss.data.indexRefName && r.type === 'index-pattern');
  if (!ref) throw new Error(`${where}: no index-pattern reference named ${ss.data.indexRefName}`);
  return { visState: vs.data, search: ss.data, indexPatternId: ref.id };
}

/** Quoted `now...` date math anchored at a fixed instant (`"<iso>||-89d/d"`). */
export function anchorDateMath(query: string, now: string | undefined): string {
  if (!now) return query;
  return query.replace(/"now([^"]*)"/g, (_m, rest: string) => `"${now}||${rest}"`);
}

function luceneQuery(query: string, options: RequestOptions): Record<string, unknown> {
  const q = anchorDateMath(query, options.now).trim();
  if (q === '') return { match_all: {} };
  return { query_string: { query: q, analyze_wildcard: true, time_zone: options.timeZone ?? 'UTC' } };
}

function metricBody(agg: VisAgg): Record<string, unknown> | null {
  if (agg.type === 'count') return null;
  return { [agg.type]: { field: agg.params.field } };
}

function bucketBody(agg: VisAgg, metrics: VisAgg[], options: RequestOptions): Record<string, unknown> {
  const p = agg.params;
  switch (agg.type) {
    case 'terms': {
      const by = String(p.orderBy ?? '_count');
      const direction = String(p.order ?? 'desc');
      let order: Record<string, string>;
      if (by === '_key') order = { _key: direction };
      else {
        const metric = metrics.find((m) => m.id === by);
        order = !metric || metric.type === 'count' ? { _count: direction } : { [by]: direction };
      }
      return { terms: { field: p.field, size: p.size, order } };
    }
    case 'filters': {
      const filters: Record<string, unknown> = {};
      for (const f of p.filters as { input: { query: string; language: string }; label: string }[]) {
        if (f.input.language !== 'lucene')
          throw new Error(`filters agg ${agg.id}: only Lucene queries are supported here (got ${f.input.language})`);
        filters[f.label || f.input.query] = luceneQuery(f.input.query, options);
      }
      return { filters: { filters } };
    }
    case 'date_histogram': {
      const interval = String(p.interval);
      const calendar: Record<string, string> = { d: '1d', w: '1w', M: '1M', y: '1y', h: '1h' };
      if (!calendar[interval]) throw new Error(`date_histogram agg ${agg.id}: interval ${interval} not supported here`);
      return {
        date_histogram: {
          field: p.field,
          calendar_interval: calendar[interval],
          time_zone: options.timeZone ?? 'UTC',
          min_doc_count: p.min_doc_count ?? 1,
        },
      };
    }
    default:
      throw new Error(`aggregation ${agg.id}: type ${agg.type} not supported`);
  }
}

/** The search a visualization runs, given its index pattern saved object. */
export function panelRequest(vis: SavedObject, indexPattern: SavedObject, options: RequestOptions = {}): PanelRequest {
  const { visState, search, indexPatternId } = parseVisualization(vis);
  if (indexPattern.id !== indexPatternId)
    throw new Error(`visualization ${vis.id} reads index pattern ${indexPatternId}, not ${indexPattern.id}`);
  if (search.query.language !== 'lucene')
    throw new Error(`visualization ${vis.id}: only Lucene queries are supported here`);
  const attributes = indexPattern.attributes as { title: string; timeFieldName?: string };
  const enabled = visState.aggs.filter((a) => a.enabled);
  const metrics = enabled.filter((a) => a.schema === 'metric');
  const buckets = enabled.filter((a) => a.schema !== 'metric');
  for (const a of enabled) {
    if (!(a.schema === 'metric' ? METRIC_TYPES : BUCKET_TYPES).has(a.type))
      throw new Error(`visualization ${vis.id}: aggregation type ${a.type} not supported`);
  }

  // Innermost level first: metrics, then each bucket wrapping the level below it. Metrics sit
  // at every level, so a terms aggregation can order by one.
  const metricAggs: Record<string, unknown> = {};
  for (const m of metrics) {
    const body = metricBody(m);
    if (body) metricAggs[m.id] = body;
  }
  let inner: Record<string, unknown> = metricAggs;
  for (const b of [...buckets].reverse()) {
    const body = bucketBody(b, metrics, options);
    const sub = { ...metricAggs, ...inner };
    inner = { [b.id]: Object.keys(sub).length > 0 ? { ...body, aggs: sub } : body };
  }

  const filter: unknown[] = [luceneQuery(search.query.query, options)];
  const timeField = attributes.timeFieldName ?? null;
  if (timeField && options.timeRange) {
    filter.push({
      range: {
        [timeField]: {
          gte: anchorDateMath(`"${options.timeRange.from}"`, options.now).slice(1, -1),
          lte: anchorDateMath(`"${options.timeRange.to}"`, options.now).slice(1, -1),
          format: 'strict_date_optional_time',
        },
      },
    });
  }
  return {
    title: visState.title,
    index: attributes.title,
    timeField,
    body: { size: 0, track_total_hits: true, query: { bool: { filter } }, aggs: inner },
    metrics,
    buckets,
  };
}

/** One row of a panel: the bucket keys from outermost in, and each metric's value. */
export interface PanelRow {
  keys: string[];
  values: Record<string, number | null>;
}

function metricValues(
  metrics: VisAgg[],
  bucket: Record<string, unknown>,
  docCount: number,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const m of metrics) {
    if (m.type === 'count') out[m.id] = docCount;
    else out[m.id] = ((bucket[m.id] as { value?: number | null } | undefined)?.value ?? null) as number | null;
  }
  return out;
}

/** The rows a panel shows (as a data table would), from the search answer. */
export function panelRows(
  request: PanelRequest,
  response: { hits?: { total?: { value: number } | number }; aggregations?: Record<string, unknown> },
): PanelRow[] {
  const rows: PanelRow[] = [];
  const walk = (level: number, container: Record<string, unknown>, keys: string[], docCount: number): void => {
    if (level === request.buckets.length) {
      rows.push({ keys, values: metricValues(request.metrics, container, docCount) });
      return;
    }
    const agg = request.buckets[level];
    const result = container[agg.id] as { buckets: unknown } | undefined;
    if (!result) throw new Error(`${request.title}: the answer has no aggregation ${agg.id}`);
    if (Array.isArray(result.buckets)) {
      for (const b of result.buckets as { key: unknown; key_as_string?: string; doc_count: number }[]) {
        const key = agg.type === 'date_histogram' ? new Date(Number(b.key)).toISOString() : String(b.key);
        walk(level + 1, b as unknown as Record<string, unknown>, [...keys, key], b.doc_count);
      }
    } else {
      for (const [label, b] of Object.entries(result.buckets as Record<string, { doc_count: number }>)) {
        walk(level + 1, b as unknown as Record<string, unknown>, [...keys, label], b.doc_count);
      }
    }
  };
  const total = response.hits?.total;
  walk(0, response.aggregations ?? {}, [], typeof total === 'number' ? total : (total?.value ?? 0));
  return rows;
}
