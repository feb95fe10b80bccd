// The JSON report (patchloop.scan/v1), written in pieces: the header pretty-printed, then one
// finding per line. Large hosts have tens of thousands of findings; one giant string would
// double the scan's memory. The output is still a single JSON document.
import type { ScanReport } from '../report.ts';

export function* jsonReportChunks(report: ScanReport): Generator<string> {
  const { findings, ...head } = report;
  const headText = JSON.stringify({ ...head, findings: [] }, null, 2);
  // Open the findings array where the pretty printer closed it.
  yield `${headText.slice(0, headText.lastIndexOf('[]'))}[`;
  const BATCH = 500;
  for (let i = 0; i < findings.length; i += BATCH) {
    const lines = findings.slice(i, i + BATCH).map((f) => `\n    ${JSON.stringify(f)}`);
    yield (i === 0 ? '' : ',') + lines.join(',');
  }
  yield `${findings.length ? '\n  ' : ''}]\n}\n`;
}
