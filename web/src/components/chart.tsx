// Charts: a thin Preact wrapper around uPlot (small, fast, canvas, CSP-safe), and the two
// charts of the exposure trend built on it.
import { useEffect, useMemo, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Trends } from '../api/types.ts';
import { SEVERITY_LABEL, type Severity } from '../lib/severity.ts';

export const SEVERITY_COLOR: Record<Severity, string> = {
  critical: '#b42318',
  high: '#e8590c',
  medium: '#d9a400',
  low: '#3b6fd4',
  negligible: '#98a2b3',
  unknown: '#c8ced8',
};

/** 1,200 → 1.2k, 150,000 → 150k: axis labels stay short. */
function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(v);
}

const AXIS = {
  stroke: '#667085',
  grid: { stroke: '#eef0f3', width: 1 },
  ticks: { stroke: '#e4e7ec', width: 1 },
  font: '11px system-ui, sans-serif',
};

function UPlot(props: {
  options: Omit<uPlot.Options, 'width'>;
  data: uPlot.AlignedData;
  label: string;
  firstDay?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current!;
    const u = new uPlot({ ...props.options, width: Math.max(200, el.clientWidth) }, props.data, el);
    plot.current = u;
    const ro = new ResizeObserver(() =>
      u.setSize({ width: Math.max(200, el.clientWidth), height: props.options.height }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [props.options]);
  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);
  return <div class="chart" ref={box} role="img" aria-label={props.label} data-first-day={props.firstDay} />;
}

/**
 * The days from the first with anything to show: a fleet enrolled last week has a week of
 * history, not 83 empty days before it. Empty when no day has any finding.
 */
export function fromFirstData(days: Trends['days']): Trends['days'] {
  const first = days.findIndex((d) => d.open.total > 0 || d.new.total > 0 || d.resolved.total > 0);
  return first < 0 ? [] : days.slice(first);
}

/** The value a legend shows: the hovered day's, or the last day's when the cursor is elsewhere. */
const at = <T,>(values: T[], idx: number | null | undefined): T => values[idx ?? values.length - 1];

/** The day column of a legend: the hovered day, or "latest" and its date. */
function daySeries(days: Trends['days']): uPlot.Series {
  return {
    label: 'Day',
    value: (_u, _v, _si, idx) => (idx == null ? `latest, ${days.at(-1)!.date}` : days[idx].date),
  };
}

function NoTrend() {
  return (
    <p class="chart-empty" data-chart-empty>
      No findings recorded yet: the chart starts with the first host report that finds one.
    </p>
  );
}

const STACK: Severity[] = ['critical', 'high', 'medium', 'low', 'negligible', 'unknown'];
const toSeconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

/** Open findings per day, stacked by severity (the legend shows each severity's own count). */
export function OpenTrendChart(props: { days: Trends['days'] }) {
  const shown = useMemo(() => fromFirstData(props.days), [props.days]);
  const { options, data } = useMemo(() => openTrend(shown), [shown]);
  if (shown.length === 0) return <NoTrend />;
  return <UPlot options={options} data={data} label="Open findings per day by severity" firstDay={shown[0].date} />;
}

function openTrend(days: Trends['days']): { options: Omit<uPlot.Options, 'width'>; data: uPlot.AlignedData } {
  const x = days.map((d) => toSeconds(d.date));
  const raw = STACK.map((s) => days.map((d) => d.open[s]));
  // Cumulative from the bottom (unknown) up, so each band is one severity.
  const stacked: number[][] = [];
  let acc = days.map(() => 0);
  for (let i = STACK.length - 1; i >= 0; i--) {
    acc = acc.map((v, j) => v + raw[i][j]);
    stacked[i] = acc;
  }
  const options: Omit<uPlot.Options, 'width'> = {
    height: 220,
    legend: { show: true, live: true },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.08] } },
    axes: [
      { ...AXIS, space: 60 },
      { ...AXIS, size: 48, values: (_u, splits) => splits.map(compact) },
    ],
    series: [
      daySeries(days),
      ...STACK.map((s, i) => ({
        label: SEVERITY_LABEL[s],
        stroke: SEVERITY_COLOR[s],
        fill: `${SEVERITY_COLOR[s]}cc`,
        width: 1,
        points: { show: false },
        value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) =>
          at(raw[i], idx).toLocaleString('en-US'),
      })),
    ],
    bands: STACK.slice(0, -1).map((_, i) => ({ series: [i + 1, i + 2] as [number, number] })),
  };
  return { options, data: [x, ...stacked] };
}

/** New (up) and resolved (down) findings per day. */
export function FlowChart(props: { days: Trends['days'] }) {
  const shown = useMemo(() => fromFirstData(props.days), [props.days]);
  const { options, data } = useMemo(() => flow(shown), [shown]);
  if (shown.length === 0) return <NoTrend />;
  return <UPlot options={options} data={data} label="New and resolved findings per day" firstDay={shown[0].date} />;
}

function flow(days: Trends['days']): { options: Omit<uPlot.Options, 'width'>; data: uPlot.AlignedData } {
  const x = days.map((d) => toSeconds(d.date));
  const added = days.map((d) => d.new.total);
  const resolved = days.map((d) => d.resolved.total);
  const bars = uPlot.paths.bars!({ size: [0.7, 14], align: 0 });
  const options: Omit<uPlot.Options, 'width'> = {
    height: 150,
    legend: { show: true, live: true },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [
      { ...AXIS, space: 60 },
      { ...AXIS, size: 48, values: (_u, splits) => splits.map((v) => compact(Math.abs(v))) },
    ],
    series: [
      daySeries(days),
      {
        label: 'New',
        stroke: '#d9480f',
        fill: '#f08c4bcc',
        paths: bars,
        points: { show: false },
        value: (_u, _v, _si, idx) => at(added, idx).toLocaleString('en-US'),
      },
      {
        label: 'Resolved',
        stroke: '#2b8a3e',
        fill: '#51cf66cc',
        paths: bars,
        points: { show: false },
        value: (_u, _v, _si, idx) => at(resolved, idx).toLocaleString('en-US'),
      },
    ],
  };
  // Resolved bars point down.
  return { options, data: [x, added, resolved.map((n) => -n)] };
}
