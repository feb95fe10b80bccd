// The saved objects' structure (Kibana and OpenSearch Dashboards themselves are not available
// here, so what they check on import and when rendering is checked here), and that the files
// shipped in deploy/elastic are exactly what the generator writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exportNames } from '../names.ts';
import { PANELS } from './panels.ts';
import { panelRequest, parseVisualization } from './request.ts';
import { DATA_VIEWS, NDJSON_FILES, savedObjects, toNdjson, type Flavor, type SavedObject } from './saved-objects.ts';

const DEPLOY = fileURLToPath(new URL('../../../deploy/elastic/', import.meta.url));
const FLAVORS: Flavor[] = ['kibana', 'opensearch-dashboards'];

test('deploy/elastic holds exactly what the generator writes (regenerate with `patchloop elastic dashboards --out deploy/elastic`)', () => {
  for (const flavor of FLAVORS) {
    assert.equal(
      readFileSync(DEPLOY + NDJSON_FILES[flavor], 'utf8'),
      toNdjson(savedObjects(flavor)),
      NDJSON_FILES[flavor],
    );
  }
});

interface Field {
  name: string;
  type: string;
  aggregatable: boolean;
}

function check(flavor: Flavor, objects: SavedObject[]): void {
  const names = exportNames();
  const ids = objects.map((o) => `${o.type}:${o.id}`);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique per type');
  for (const o of objects) {
    assert.deepEqual(Object.keys(o).sort(), ['attributes', 'id', 'migrationVersion', 'references', 'type'], o.id);
    // OpenSearch Dashboards refuses objects migrated past its own 7.10 line.
    for (const v of Object.values(o.migrationVersion)) {
      const [major, minor] = v.split('.').map(Number);
      assert.ok(major === 7 && minor <= 10, `${o.id}: migration version ${v}`);
    }
    assert.equal(typeof o.attributes.title, 'string');
  }
  const patterns = new Map(objects.filter((o) => o.type === 'index-pattern').map((o) => [o.id, o]));
  assert.deepEqual(
    [...patterns.values()].map((p) => p.attributes.title).sort(),
    DATA_VIEWS.map((v) => v.title(names)).sort(),
  );
  const fieldsOf = new Map(
    [...patterns].map(([id, p]) => [
      id,
      new Map((JSON.parse(p.attributes.fields as string) as Field[]).map((f) => [f.name, f])),
    ]),
  );
  for (const p of patterns.values()) {
    const fields = fieldsOf.get(p.id)!;
    if (p.attributes.timeFieldName)
      assert.equal(fields.get(p.attributes.timeFieldName as string)?.type, 'date', `${p.id}: time field`);
    JSON.parse(p.attributes.fieldFormatMap as string);
  }
  // State indices have no time field: the time picker must not hide what is open now.
  assert.equal(patterns.get(`${names.prefix}-dataview-findings`)?.attributes.timeFieldName, undefined);
  assert.equal(patterns.get(`${names.prefix}-dataview-hosts`)?.attributes.timeFieldName, undefined);

  const visualizations = objects.filter((o) => o.type === 'visualization');
  assert.equal(visualizations.length, PANELS.length);
  for (const vis of visualizations) {
    const { visState, search, indexPatternId } = parseVisualization(vis);
    const fields = fieldsOf.get(indexPatternId);
    assert.ok(fields, `${vis.id}: reads index pattern ${indexPatternId}, which is in the set`);
    assert.equal(search.query.language, 'lucene');
    assert.ok(['metric', 'table', 'pie', 'histogram', 'horizontal_bar', 'line'].includes(visState.type), visState.type);
    // Every field a query names exists in the data view.
    const queries = [
      search.query.query,
      ...visState.aggs.flatMap((a) =>
        ((a.params.filters as { input: { query: string } }[] | undefined) ?? []).map((f) => f.input.query),
      ),
    ];
    for (const q of queries)
      for (const m of q.matchAll(/([@\w.]+):/g)) assert.ok(fields.has(m[1]), `${vis.id}: query field ${m[1]}`);
    const metricIds = new Set<string>();
    for (const agg of visState.aggs) {
      const field = agg.params.field as string | undefined;
      const f: Field | undefined = field === undefined ? undefined : fields.get(field);
      if (field !== undefined)
        assert.ok(f?.aggregatable, `${vis.id}: ${agg.type} on ${field}, which is not an aggregatable field`);
      switch (agg.type) {
        case 'count':
          break;
        case 'avg':
        case 'sum':
          assert.equal(f?.type, 'number', `${vis.id}: ${agg.type} needs a number`);
          break;
        case 'max':
        case 'min':
          assert.ok(f?.type === 'number' || f?.type === 'date', `${vis.id}: ${agg.type} on ${f?.type}`);
          break;
        case 'cardinality':
          break;
        case 'terms':
          assert.ok(['string', 'boolean', 'number'].includes(f?.type ?? ''), `${vis.id}: terms on ${f?.type}`);
          assert.ok(
            agg.params.orderBy === '_key' || metricIds.has(agg.params.orderBy as string),
            `${vis.id}: terms ordered by an existing metric`,
          );
          break;
        case 'date_histogram':
          assert.equal(f?.type, 'date');
          assert.ok(
            flavor === 'kibana'
              ? 'useNormalizedEsInterval' in agg.params
              : 'useNormalizedOpenSearchInterval' in agg.params,
            `${vis.id}: interval switch for ${flavor}`,
          );
          break;
        case 'filters':
          assert.ok((agg.params.filters as unknown[]).length > 0);
          break;
        default:
          assert.fail(`${vis.id}: aggregation ${agg.type}`);
      }
      if (agg.schema === 'metric') metricIds.add(agg.id);
    }
    const firstBucket = visState.aggs.findIndex((a) => a.schema !== 'metric');
    assert.ok(metricIds.size > 0 && (firstBucket === -1 || firstBucket === metricIds.size), `${vis.id}: metrics first`);
    // The chart types name their one metric series by the first metric's id.
    if (['histogram', 'horizontal_bar', 'line'].includes(visState.type)) {
      const series = (visState.params.seriesParams as { data: { id: string } }[])[0];
      assert.ok(metricIds.has(series.data.id));
    }
  }

  const dashboards = objects.filter((o) => o.type === 'dashboard');
  assert.equal(dashboards.length, 1);
  const d = dashboards[0];
  const panels = JSON.parse(d.attributes.panelsJSON as string) as {
    panelRefName: string;
    panelIndex: string;
    gridData: { x: number; y: number; w: number; h: number; i: string };
  }[];
  assert.deepEqual(panels.map((p) => p.panelRefName).sort(), d.references.map((r) => r.name).sort());
  assert.deepEqual(
    d.references.map((r) => r.id).sort(),
    visualizations.map((v) => v.id).sort(),
    'every visualization is on the dashboard',
  );
  for (const r of d.references) assert.equal(r.type, 'visualization');
  // The grid is 48 columns wide and panels do not overlap.
  const cells = new Set<string>();
  for (const p of panels) {
    assert.ok(p.gridData.x >= 0 && p.gridData.x + p.gridData.w <= 48, `panel ${p.panelIndex} fits the grid`);
    assert.equal(p.gridData.i, p.panelIndex);
    for (let x = p.gridData.x; x < p.gridData.x + p.gridData.w; x++) {
      for (let y = p.gridData.y; y < p.gridData.y + p.gridData.h; y++) {
        assert.ok(!cells.has(`${x},${y}`), `panel ${p.panelIndex} overlaps another at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    }
  }
  assert.equal(d.attributes.timeRestore, true);
  JSON.parse((d.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON);
  JSON.parse(d.attributes.optionsJSON as string);
}

test('saved objects: types, ids, references, fields of every aggregation, dashboard layout (both products)', () => {
  for (const flavor of FLAVORS) check(flavor, savedObjects(flavor));
  // Another prefix: every index pattern and id follows it.
  const other = savedObjects('kibana', exportNames('fleet2'));
  assert.ok(other.every((o) => o.id.startsWith('fleet2-')));
  assert.ok(
    other.filter((o) => o.type === 'index-pattern').every((o) => String(o.attributes.title).startsWith('fleet2-')),
  );
});

test('a visualization becomes the search Kibana sends: nested buckets, terms ordered by their metric, anchored date math', () => {
  const objects = savedObjects('opensearch-dashboards');
  const byId = new Map(objects.map((o) => [o.id, o]));
  const vis = byId.get('patchloop-most-widespread-vulnerabilities')!;
  const r = panelRequest(vis, byId.get(vis.references[0].id)!, { now: '2026-11-05T10:00:00.000Z' });
  assert.equal(r.index, 'patchloop-findings');
  assert.deepEqual(r.body.aggs, {
    '3': {
      terms: { field: 'vulnerability.id', size: 10, order: { '1': 'desc' } },
      aggs: { '1': { cardinality: { field: 'host.id' } } },
    },
  });
  const sla = byId.get('patchloop-sla-open')!;
  const s = panelRequest(sla, byId.get(sla.references[0].id)!, { now: '2026-11-05T10:00:00.000Z' });
  const filters = (
    s.body.aggs as Record<
      string,
      { aggs: Record<string, { filters: { filters: Record<string, { query_string: { query: string } }> } }> }
    >
  )['2'].aggs['3'].filters.filters;
  assert.equal(filters.overdue.query_string.query, 'patchloop.sla_due:[* TO "2026-11-05T10:00:00.000Z||/d"}');
  assert.equal(filters['within SLA'].query_string.query, 'patchloop.sla_due:["2026-11-05T10:00:00.000Z||/d" TO *]');
});
