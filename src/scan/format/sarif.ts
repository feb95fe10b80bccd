// SARIF 2.1.0 output, for code-scanning dashboards and CI systems that ingest it.
// One rule per vulnerability, one result per affected binary package.
import { leadingCvss } from '../../core/severity.ts';
import type { Finding, Severity } from '../../core/types.ts';
import type { ScanReport } from '../report.ts';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  negligible: 'note',
  unknown: 'warning',
};

// GitHub-style numeric severity (0.0–10.0) so consumers can rank rules.
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '2.0',
  negligible: '0.5',
  unknown: '0.0',
};

const DB_PATH: Record<string, string> = { deb: 'var/lib/dpkg/status', rpm: 'var/lib/rpm', apk: 'lib/apk/db/installed' };

export function renderSarif(report: ScanReport, toolVersion: string, format: 'deb' | 'rpm' | 'apk' | null): object {
  const rules = new Map<string, object>();
  for (const f of report.findings) if (!rules.has(f.id)) rules.set(f.id, rule(f));
  const location = format ? DB_PATH[format] : 'var/lib';
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'patchloop',
            version: toolVersion,
            rules: [...rules.values()],
          },
        },
        originalUriBaseIds: {
          ROOTPATH: { uri: `file://${report.host.root.endsWith('/') ? report.host.root : `${report.host.root}/`}` },
        },
        results: report.findings.map((f) => ({
          ruleId: f.id,
          level: LEVEL[f.severity],
          message: { text: message(f) },
          locations: [
            {
              physicalLocation: { artifactLocation: { uri: location, uriBaseId: 'ROOTPATH' } },
              logicalLocations: [
                { name: f.package.name, fullyQualifiedName: `${f.package.name}@${f.package.version}`, kind: 'package' },
              ],
            },
          ],
          partialFingerprints: { packageVulnerability: `${f.package.name}/${f.package.arch}/${f.id}` },
          properties: {
            package: f.package,
            status: f.status,
            raw_status: f.raw_status,
            fixed_version: f.fixed_version,
            feed: f.feed,
            advisory_ids: f.advisory_ids,
            ...(f.priority ? { priority: f.priority.level, priority_reason: f.priority.reason } : {}),
            ...(f.kev ? { kev: f.kev } : {}),
            ...(f.epss ? { epss: f.epss } : {}),
            ...(f.cvss ? { cvss: f.cvss } : {}),
          },
        })),
        properties: { host: report.host, scanned_at: report.scanned_at },
      },
    ],
  };
}

function rule(f: Finding): object {
  // The CVSS base score where a feed gives one; else a number standing for the severity.
  const cvss = leadingCvss(f.cvss);
  return {
    id: f.id,
    name: f.id.replace(/[^A-Za-z0-9]/g, ''),
    shortDescription: { text: `${f.id} in ${f.package.source}` },
    helpUri: helpUri(f),
    properties: {
      'security-severity': cvss ? cvss.score.toFixed(1) : SECURITY_SEVERITY[f.severity],
      severity: f.severity,
      tags: ['security', 'vulnerability', f.feed, ...(f.kev ? ['known-exploited'] : [])],
    },
  };
}

function helpUri(f: Finding): string {
  if (f.feed === 'debian') return `https://security-tracker.debian.org/tracker/${f.id}`;
  if (f.feed === 'ubuntu') return `https://ubuntu.com/security/${f.id}`;
  if (f.id.startsWith('CVE-')) return `https://www.cve.org/CVERecord?id=${f.id}`;
  return `https://osv.dev/vulnerability/${f.id}`;
}

function message(f: Finding): string {
  const fix = f.fixed_version ? `fixed in ${f.fixed_version}` : f.status.replace(/_/g, ' ');
  return `${f.package.name} ${f.package.version} is affected by ${f.id} (${f.severity}); ${fix}.`;
}
