// The output formats of a scan report, each module loaded only when its format is asked for
// (ECS loads the exporter's mapping, which the other formats have no use for).
import type { ScanReport } from '../report.ts';

export const SCAN_FORMATS = ['table', 'json', 'sarif', 'ecs'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

/** The report as text, in pieces to write one after the other (JSON streams its findings). */
export async function renderReport(
  report: ScanReport,
  format: ScanFormat,
  options: { colour: boolean; groupBy?: 'source' | 'fix' },
): Promise<Iterable<string>> {
  switch (format) {
    case 'json':
      return (await import('./json.ts')).jsonReportChunks(report);
    case 'table':
      return [(await import('./table.ts')).renderTable(report, options.colour, options.groupBy)];
    case 'sarif': {
      const { renderSarif } = await import('./sarif.ts');
      const { distroProfile } = await import('../../core/distros.ts');
      const { PATCHLOOP_VERSION } = await import('../../version.ts');
      return [
        `${JSON.stringify(renderSarif(report, PATCHLOOP_VERSION, distroProfile(report.host.distro)?.format ?? null), null, 2)}\n`,
      ];
    }
    case 'ecs':
      return [(await import('./ecs.ts')).renderEcsNdjson(report)];
  }
}
