// Human-readable scan output: findings grouped by source package, worst first, with counts by
// severity and status. Colour only when the stream is a terminal (and NO_COLOR is unset).
import { styleText } from 'node:util';
import { SEVERITIES, type Finding, type Severity } from '../../core/types.ts';
import type { ScanReport } from '../report.ts';
import { counted } from '../../core/plural.ts';

type Style = Parameters<typeof styleText>[0];

const SEVERITY_STYLE: Record<Severity, Style> = {
  critical: ['bold', 'red'],
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  negligible: 'gray',
  unknown: 'gray',
};

export function renderTable(report: ScanReport, colour: boolean): string {
  const paint = (style: Style, text: string): string =>
    colour ? styleText(style, text, { validateStream: false }) : text;
  const out: string[] = [];
  const h = report.host;
  out.push(
    paint('bold', `${h.os.pretty_name || `${h.distro} ${h.release}`}`) +
      `  root ${h.root}  kernel ${h.kernel ?? 'unknown'}  ${h.package_count} packages`,
  );
  out.push(
    `vulnerability data: ${report.db.map((d) => `${d.feed} (updated ${d.updated_at.slice(0, 16).replace('T', ' ')})`).join(', ')}`,
  );
  for (const w of report.warnings) out.push(paint('yellow', `warning: ${w}`));
  out.push('');

  const groups = groupBySource(report.findings);
  if (groups.length === 0) out.push(paint('green', 'No known vulnerabilities found.'));
  for (const g of groups) {
    out.push(
      paint('bold', `${g.source} ${g.sourceVersion}`) + paint('gray', `  (${[...g.binaries].sort().join(', ')})`),
    );
    const rows = g.findings.map((f) => [
      paint(SEVERITY_STYLE[f.severity], f.severity.toUpperCase()),
      f.id,
      statusLabel(f),
      f.fixed_version ?? '-',
      f.advisory_ids.join(' '),
    ]);
    out.push(...columns(rows, colour).map((line) => `  ${line}`));
  }

  out.push('');
  const s = report.summary;
  const sev = SEVERITIES.filter((k) => s.by_severity[k] > 0).map((k) =>
    paint(SEVERITY_STYLE[k], `${k} ${s.by_severity[k]}`),
  );
  const st = Object.entries(s.by_status)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k.replace(/_/g, ' ')} ${n}`);
  out.push(
    `${paint('bold', `Total: ${s.total}`)}${sev.length ? ` (${sev.join(', ')})` : ''}${st.length ? `; ${st.join(', ')}` : ''}`,
  );
  // The unit every count shares (core/exposure.ts), said once where the count is.
  if (s.total)
    out.push(
      paint(
        'gray',
        `counted per vulnerability and source package: ${counted(s.findings, 'finding')} on binary packages`,
      ),
    );
  if (s.kernel_not_running) out.push(`plus ${s.kernel_not_running} in kernels installed but not running`);
  if (report.kernel.newer_installed)
    out.push(paint('yellow', 'A newer kernel is installed than the one running: reboot to activate it.'));
  if (report.unsupported_packages.length) {
    out.push(
      `Packages out of security support: ${report.unsupported_packages.map((u) => `${u.source} (${u.kind})`).join(', ')}`,
    );
  }
  return `${out.join('\n')}\n`;
}

interface Group {
  source: string;
  sourceVersion: string;
  binaries: Set<string>;
  findings: Finding[];
  worst: number;
}

/** One group per source package; each vulnerability once, worst severity first. */
function groupBySource(findings: readonly Finding[]): Group[] {
  const groups = new Map<string, Group>();
  for (const f of findings) {
    const key = `${f.package.source}\u0000${f.package.source_version}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        source: f.package.source,
        sourceVersion: f.package.source_version,
        binaries: new Set(),
        findings: [],
        worst: SEVERITIES.length,
      };
      groups.set(key, g);
    }
    g.binaries.add(f.package.name);
    if (!g.findings.some((x) => x.id === f.id)) g.findings.push(f);
    g.worst = Math.min(g.worst, SEVERITIES.indexOf(f.severity));
  }
  const list = [...groups.values()];
  for (const g of list)
    g.findings.sort(
      (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.id.localeCompare(b.id),
    );
  return list.sort((a, b) => a.worst - b.worst || a.source.localeCompare(b.source));
}

function statusLabel(f: Finding): string {
  const base = f.status.replace(/_/g, ' ');
  return f.kernel_not_running ? `${base} (kernel not running)` : base;
}

/** Left-aligned columns; widths ignore colour escape codes. */
function columns(rows: string[][], colour: boolean): string[] {
  // eslint-disable-next-line no-control-regex
  const visible = (s: string): number => (colour ? s.replace(/\u001b\[[0-9;]*m/g, '') : s).length;
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(c))));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - visible(c))))
      .join('  ')
      .trimEnd(),
  );
}
