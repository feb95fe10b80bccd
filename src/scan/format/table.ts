// Human-readable scan output: findings grouped by source package, highest priority first, with
// their KEV and EPSS and counts by severity, status and priority; or (`--group-by fix`) the
// remediation roll-up: the upgrades that close them. Colour only when the stream is a terminal
// (and NO_COLOR is unset).
import { styleText } from 'node:util';
import { comparePriority } from '../../core/priority.ts';
import { distroProfile } from '../../core/distros.ts';
import { compareVersions } from '../../core/version/index.ts';
import { PRIORITY_LEVELS, SEVERITIES, type Finding, type PriorityLevel, type Severity } from '../../core/types.ts';
import type { ScanReport } from '../report.ts';
import { remediationSteps } from '../remediation.ts';
import { counted } from '../../core/plural.ts';

/** How the table groups findings: by source package (default), or by the upgrade that fixes them. */
export const TABLE_GROUPS = ['source', 'fix'] as const;
export type TableGroup = (typeof TABLE_GROUPS)[number];

type Style = Parameters<typeof styleText>[0];

const SEVERITY_STYLE: Record<Severity, Style> = {
  critical: ['bold', 'red'],
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  negligible: 'gray',
  unknown: 'gray',
};

const PRIORITY_STYLE: Record<PriorityLevel, Style> = {
  P1: ['bold', 'red'],
  P2: 'red',
  P3: 'yellow',
  P4: 'gray',
};

export function renderTable(report: ScanReport, colour: boolean, groupBy: TableGroup = 'source'): string {
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

  if (report.findings.length === 0) out.push(paint('green', 'No known vulnerabilities found.'));
  else if (groupBy === 'fix') out.push(...fixLines(report, paint));
  else out.push(...sourceLines(report.findings, paint, colour));

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
  if (s.total) {
    const pr = PRIORITY_LEVELS.filter((p) => s.by_priority[p] > 0).map((p) =>
      paint(PRIORITY_STYLE[p], `${p} ${s.by_priority[p]}`),
    );
    if (pr.length) out.push(`Priority: ${pr.join(', ')}; known exploited ${s.known_exploited}`);
  }
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

type Paint = (style: Style, text: string) => string;

const HEADER = ['PRIORITY', 'SEVERITY', 'VULNERABILITY', 'KEV', 'EPSS', 'STATUS', 'FIXED IN', 'ADVISORIES'];

/** Per source package, its vulnerabilities; columns aligned across every group under one header. */
function sourceLines(findings: readonly Finding[], paint: Paint, colour: boolean): string[] {
  const groups = groupBySource(findings);
  const rows: string[][] = [HEADER.map((h) => paint('gray', h))];
  for (const g of groups)
    for (const f of g.findings)
      rows.push([
        f.priority ? paint(PRIORITY_STYLE[f.priority.level], f.priority.level) : '-',
        paint(SEVERITY_STYLE[f.severity], f.severity.toUpperCase()),
        f.id,
        f.kev ? paint(['bold', 'red'], f.kev.ransomware ? 'KEV ransomware' : 'KEV') : '-',
        f.epss ? f.epss.score.toFixed(2) : '-',
        statusLabel(f),
        f.fixed_version ?? '-',
        f.advisory_ids.join(' '),
      ]);
  const lines = columns(rows, colour);
  const out = [`  ${lines[0]}`];
  let i = 1;
  for (const g of groups) {
    out.push(
      paint('bold', `${g.source} ${g.sourceVersion}`) + paint('gray', `  (${[...g.binaries].sort().join(', ')})`),
    );
    out.push(...lines.slice(i, i + g.findings.length).map((line) => `  ${line}`));
    i += g.findings.length;
  }
  return out;
}

/** Vulnerability ids listed under an upgrade (JSON has them all). */
const IDS_SHOWN = 12;

/** The remediation roll-up: one line per upgrade, what it closes, highest priority first. */
function fixLines(report: ScanReport, paint: Paint): string[] {
  const scheme = distroProfile(report.host.distro)?.scheme ?? 'deb';
  const steps = remediationSteps(report.findings, (a, b) => compareVersions(scheme, a, b));
  const out: string[] = [];
  let shown = 0;
  const seen = new Set<string>();
  for (const step of steps) {
    // A lower version of a source already listed closes a subset: said once, under it.
    const first = !seen.has(step.source);
    seen.add(step.source);
    const kev = step.known_exploited.length ? ` (${step.known_exploited.length} known exploited)` : '';
    const level = step.priority ? paint(PRIORITY_STYLE[step.priority.level], step.priority.level) : '-';
    const text = `upgrade ${step.source} to ${step.fixed_version}: closes ${counted(step.closes.length, 'CVE')}${kev}`;
    if (first) {
      out.push(`${level}  ${paint('bold', text)}` + paint('gray', `  (${step.binaries.join(', ')})`));
      const more = step.closes.length > IDS_SHOWN ? ` and ${step.closes.length - IDS_SHOWN} more` : '';
      out.push(paint('gray', `      ${step.closes.slice(0, IDS_SHOWN).join(' ')}${more}`));
      shown += step.closes.length;
    } else out.push(paint('gray', `      or ${text.replace(/^upgrade \S+ /, '')}`));
  }
  if (steps.length === 0) out.push('No fix is available for any of them yet.');
  const total = report.summary.total;
  if (total > shown)
    out.push('', `${counted(total - shown, 'exposure')} with no fix available yet (see the default table).`);
  return out;
}

interface Group {
  source: string;
  sourceVersion: string;
  binaries: Set<string>;
  findings: Finding[];
  worst: number;
  best: Finding['priority'];
}

/** One group per source package; each vulnerability once, highest priority and worst severity first. */
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
        best: undefined,
      };
      groups.set(key, g);
    }
    g.binaries.add(f.package.name);
    if (!g.findings.some((x) => x.id === f.id)) g.findings.push(f);
    g.worst = Math.min(g.worst, SEVERITIES.indexOf(f.severity));
    if (comparePriority(f.priority, g.best) < 0) g.best = f.priority;
  }
  const list = [...groups.values()];
  for (const g of list)
    g.findings.sort(
      (a, b) =>
        comparePriority(a.priority, b.priority) ||
        SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
        a.id.localeCompare(b.id),
    );
  return list.sort((a, b) => comparePriority(a.best, b.best) || a.worst - b.worst || a.source.localeCompare(b.source));
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
