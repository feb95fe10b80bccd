// Saved objects for Kibana 8.x and OpenSearch Dashboards 2.x, generated from the panel
// definitions: index patterns (data views) with their fields taken from patchloop's own
// mappings, one aggregation-based `visualization` per panel (the legacy kind both products
// render; Lens is Kibana-only), and one dashboard. Objects carry 7.10-era migration versions,
// which OpenSearch Dashboards accepts as its own and Kibana migrates on import.
import { exportNames, type ExportNames } from '../names.ts';
import { detectProduct } from '../product.ts';
import { DEFAULT_RETENTION } from '../lifecycle.ts';
import { buildTemplates } from '../templates.ts';
import { PANELS, type BucketSpec, type DataViewKey, type MetricSpec, type PanelSpec, type VisType } from './panels.ts';

export type Flavor = 'kibana' | 'opensearch-dashboards';

export interface SavedObject {
  type: 'index-pattern' | 'visualization' | 'dashboard';
  id: string;
  attributes: Record<string, unknown>;
  references: { name: string; type: string; id: string }[];
  migrationVersion: Record<string, string>;
}

interface DataViewSpec {
  key: DataViewKey;
  title: (names: ExportNames) => string;
  label: string;
  /** State indices have no time field: the time picker must not hide what is open now. */
  timeField: string | null;
}

export const DATA_VIEWS: readonly DataViewSpec[] = [
  { key: 'findings', title: (n) => n.findings, label: 'patchloop findings (state)', timeField: null },
  { key: 'hosts', title: (n) => n.hosts, label: 'patchloop hosts (state)', timeField: null },
  {
    key: 'vulnerabilityEvents',
    title: (n) => n.vulnerabilityEvents,
    label: 'patchloop vulnerability events',
    timeField: '@timestamp',
  },
  { key: 'patchEvents', title: (n) => n.patchEvents, label: 'patchloop patch runs', timeField: '@timestamp' },
  {
    key: 'hostSummaries',
    title: (n) => n.hostSummaries,
    label: 'patchloop host day summaries',
    timeField: '@timestamp',
  },
];

export const dataViewId = (names: ExportNames, key: DataViewKey): string => `${names.prefix}-dataview-${key}`;
export const visualizationId = (names: ExportNames, panel: PanelSpec): string => `${names.prefix}-${panel.id}`;
export const dashboardId = (names: ExportNames): string => `${names.prefix}-overview`;

const INDEX_REF = 'kibanaSavedObjectMeta.searchSourceJSON.index';

/** Kibana field type of a mapping type. */
function kibanaType(esType: string): string {
  if (['keyword', 'text'].includes(esType)) return 'string';
  if (['long', 'integer', 'short', 'byte', 'float', 'double', 'scaled_float', 'half_float'].includes(esType))
    return 'number';
  return esType; // date, boolean, ip
}

interface FieldEntry {
  name: string;
  type: string;
  esTypes: string[];
  searchable: boolean;
  aggregatable: boolean;
  readFromDocValues: boolean;
  count: number;
  scripted: boolean;
  subType?: { multi: { parent: string } };
}

/** The fields of a target's mapping, as an index pattern lists them. */
export function mappingFields(properties: Record<string, unknown>, prefix = ''): FieldEntry[] {
  const out: FieldEntry[] = [];
  for (const [name, raw] of Object.entries(properties)) {
    const m = raw as { type?: string; properties?: Record<string, unknown>; fields?: Record<string, { type: string }> };
    const path = `${prefix}${name}`;
    if (m.properties) {
      out.push(...mappingFields(m.properties, `${path}.`));
      continue;
    }
    const esType = m.type as string;
    const text = esType === 'text';
    out.push({
      name: path,
      type: kibanaType(esType),
      esTypes: [esType],
      searchable: true,
      aggregatable: !text,
      readFromDocValues: !text,
      count: 0,
      scripted: false,
    });
    for (const [sub, subMapping] of Object.entries(m.fields ?? {})) {
      const subText = subMapping.type === 'text';
      out.push({
        name: `${path}.${sub}`,
        type: kibanaType(subMapping.type),
        esTypes: [subMapping.type],
        searchable: true,
        aggregatable: !subText,
        readFromDocValues: !subText,
        count: 0,
        scripted: false,
        subType: { multi: { parent: path } },
      });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Field mappings of each data view's target (the same for both products). */
export function dataViewFields(names: ExportNames): Map<DataViewKey, FieldEntry[]> {
  const product = detectProduct({ version: { distribution: 'opensearch', number: '2.19.0' } }, {});
  const templates = buildTemplates(product, names, DEFAULT_RETENTION).indexTemplates;
  const out = new Map<DataViewKey, FieldEntry[]>();
  for (const view of DATA_VIEWS) {
    const template = templates.find((t) => t.target === view.title(names));
    if (!template) throw new Error(`no template for data view ${view.key}`);
    out.set(view.key, mappingFields((template.mappings as { properties: Record<string, unknown> }).properties));
  }
  return out;
}

function indexPattern(names: ExportNames, view: DataViewSpec, fields: FieldEntry[]): SavedObject {
  const attributes: Record<string, unknown> = { title: view.title(names) };
  if (view.timeField) attributes.timeFieldName = view.timeField;
  attributes.fields = JSON.stringify(fields);
  // event.duration is in nanoseconds (ECS): show it in days.
  attributes.fieldFormatMap = JSON.stringify(
    fields.some((f) => f.name === 'event.duration')
      ? {
          'event.duration': {
            id: 'duration',
            params: { inputFormat: 'nanoseconds', outputFormat: 'asDays', outputPrecision: 1 },
          },
        }
      : {},
  );
  return {
    type: 'index-pattern',
    id: dataViewId(names, view.key),
    attributes,
    references: [],
    migrationVersion: { 'index-pattern': '7.6.0' },
  };
}

function metricAgg(id: string, m: MetricSpec): Record<string, unknown> {
  const params: Record<string, unknown> = m.type === 'count' ? {} : { field: m.field };
  if (m.label) params.customLabel = m.label;
  return { id, enabled: true, type: m.type, schema: 'metric', params };
}

/** Which editor slot a bucket aggregation sits in, per visualization type. */
function bucketSchema(vis: VisType, index: number): string {
  switch (vis) {
    case 'metric':
      return 'group';
    case 'table':
      return 'bucket';
    case 'pie':
      return 'segment';
    default:
      return index === 0 ? 'segment' : 'group';
  }
}

function bucketAgg(id: string, b: BucketSpec, schema: string, flavor: Flavor): Record<string, unknown> {
  switch (b.type) {
    case 'terms':
      return {
        id,
        enabled: true,
        type: 'terms',
        schema,
        params: {
          field: b.field,
          orderBy: b.orderBy === 'metric' ? '1' : '_key',
          order: b.orderBy === 'metric' ? 'desc' : 'asc',
          size: b.size,
          otherBucket: false,
          otherBucketLabel: 'Other',
          missingBucket: false,
          missingBucketLabel: 'Missing',
          ...(b.label ? { customLabel: b.label } : {}),
        },
      };
    case 'filters':
      return {
        id,
        enabled: true,
        type: 'filters',
        schema,
        params: { filters: b.filters.map((f) => ({ input: { query: f.query, language: 'lucene' }, label: f.label })) },
      };
    case 'date_histogram':
      return {
        id,
        enabled: true,
        type: 'date_histogram',
        schema,
        params: {
          field: b.field,
          // The two products name this switch differently; the other one is ignored.
          ...(flavor === 'kibana' ? { useNormalizedEsInterval: true } : { useNormalizedOpenSearchInterval: true }),
          scaleMetricValues: false,
          interval: b.interval,
          drop_partials: false,
          min_doc_count: 1,
          extended_bounds: {},
          ...(b.label ? { customLabel: b.label } : {}),
        },
      };
  }
}

function axisChart(type: 'histogram' | 'line', horizontal: boolean, metricLabel: string): Record<string, unknown> {
  const categoryPosition = horizontal ? 'left' : 'bottom';
  const valuePosition = horizontal ? 'bottom' : 'left';
  return {
    type: horizontal ? 'histogram' : type,
    grid: { categoryLines: false },
    categoryAxes: [
      {
        id: 'CategoryAxis-1',
        type: 'category',
        position: categoryPosition,
        show: true,
        style: {},
        scale: { type: 'linear' },
        labels: { show: true, filter: !horizontal, truncate: 200 },
        title: {},
      },
    ],
    valueAxes: [
      {
        id: 'ValueAxis-1',
        name: horizontal ? 'BottomAxis-1' : 'LeftAxis-1',
        type: 'value',
        position: valuePosition,
        show: true,
        style: {},
        scale: { type: 'linear', mode: 'normal' },
        labels: { show: true, rotate: 0, filter: false, truncate: 100 },
        title: { text: metricLabel },
      },
    ],
    seriesParams: [
      {
        show: true,
        type: type === 'line' ? 'line' : 'histogram',
        mode: type === 'line' ? 'normal' : 'stacked',
        data: { label: metricLabel, id: '1' },
        valueAxis: 'ValueAxis-1',
        drawLinesBetweenPoints: true,
        lineWidth: 2,
        showCircles: true,
      },
    ],
    addTooltip: true,
    addLegend: true,
    legendPosition: 'right',
    times: [],
    addTimeMarker: false,
    labels: { show: horizontal },
    thresholdLine: { show: false, value: 10, width: 1, style: 'full', color: '#E7664C' },
  };
}

function visParams(panel: PanelSpec): Record<string, unknown> {
  const label = panel.metrics[0].label ?? 'Count';
  switch (panel.vis) {
    case 'pie':
      return {
        type: 'pie',
        addTooltip: true,
        addLegend: true,
        legendPosition: 'right',
        isDonut: true,
        labels: { show: true, values: true, last_level: true, truncate: 100 },
      };
    case 'metric':
      return {
        type: 'metric',
        addTooltip: true,
        addLegend: false,
        metric: {
          percentageMode: false,
          useRanges: false,
          colorSchema: 'Green to Red',
          metricColorMode: 'None',
          colorsRange: [{ from: 0, to: 10000 }],
          labels: { show: true },
          invertColors: false,
          style: { bgFill: '#000', bgColor: false, labelColor: false, subText: '', fontSize: 36 },
        },
      };
    case 'table':
      return {
        perPage: 10,
        showPartialRows: false,
        showMetricsAtAllLevels: false,
        sort: { columnIndex: null, direction: null },
        showTotal: false,
        totalFunc: 'sum',
        percentageCol: '',
      };
    case 'histogram':
      return axisChart('histogram', false, label);
    case 'horizontal_bar':
      return axisChart('histogram', true, label);
    case 'line':
      return axisChart('line', false, label);
  }
}

/** The `visState` of a panel: its aggregations, metrics first (ids 1..n), then buckets. */
export function visState(panel: PanelSpec, flavor: Flavor): Record<string, unknown> {
  const aggs: Record<string, unknown>[] = panel.metrics.map((m, i) => metricAgg(String(i + 1), m));
  panel.buckets.forEach((b, i) =>
    aggs.push(bucketAgg(String(panel.metrics.length + i + 1), b, bucketSchema(panel.vis, i), flavor)),
  );
  return { title: panel.title, type: panel.vis, aggs, params: visParams(panel) };
}

function visualization(names: ExportNames, panel: PanelSpec, flavor: Flavor): SavedObject {
  return {
    type: 'visualization',
    id: visualizationId(names, panel),
    attributes: {
      title: panel.title,
      description: panel.description,
      visState: JSON.stringify(visState(panel, flavor)),
      uiStateJSON: '{}',
      version: 1,
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({
          query: { query: panel.query, language: 'lucene' },
          filter: [],
          indexRefName: INDEX_REF,
        }),
      },
    },
    references: [{ name: INDEX_REF, type: 'index-pattern', id: dataViewId(names, panel.dataView) }],
    migrationVersion: { visualization: '7.10.0' },
  };
}

function dashboard(names: ExportNames, panels: readonly PanelSpec[]): SavedObject {
  const panelsJSON = panels.map((p, i) => ({
    version: '7.10.0',
    gridData: { ...p.grid, i: String(i + 1) },
    panelIndex: String(i + 1),
    embeddableConfig: {},
    panelRefName: `panel_${i}`,
  }));
  return {
    type: 'dashboard',
    id: dashboardId(names),
    attributes: {
      title: 'patchloop: fleet vulnerabilities and patching',
      description:
        'Open findings, fixable now, most vulnerable hosts, most widespread vulnerabilities, new vs resolved, time to remediate, SLA, hosts not reporting, reboots pending, patch runs, known exploited and priority.',
      hits: 0,
      panelsJSON: JSON.stringify(panelsJSON),
      optionsJSON: JSON.stringify({ hidePanelTitles: false, useMargins: true }),
      version: 1,
      timeRestore: true,
      timeFrom: 'now-90d',
      timeTo: 'now',
      refreshInterval: { pause: false, value: 300_000 },
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({ query: { query: '', language: 'lucene' }, filter: [] }),
      },
    },
    references: panels.map((p, i) => ({ name: `panel_${i}`, type: 'visualization', id: visualizationId(names, p) })),
    migrationVersion: { dashboard: '7.9.3' },
  };
}

/** Every saved object, in import order (index patterns, visualizations, the dashboard). */
export function savedObjects(flavor: Flavor, names: ExportNames = exportNames()): SavedObject[] {
  const fields = dataViewFields(names);
  return [
    ...DATA_VIEWS.map((v) => indexPattern(names, v, fields.get(v.key) as FieldEntry[])),
    ...PANELS.map((p) => visualization(names, p, flavor)),
    dashboard(names, PANELS),
  ];
}

/** NDJSON as the saved objects import API takes it: one object per line. */
export function toNdjson(objects: readonly SavedObject[]): string {
  return objects.map((o) => `${JSON.stringify(o)}\n`).join('');
}

/** The file names the generated objects are kept under in deploy/elastic. */
export const NDJSON_FILES: Record<Flavor, string> = {
  kibana: 'kibana.ndjson',
  'opensearch-dashboards': 'opensearch-dashboards.ndjson',
};
