// Findings across the fleet, filtered by severity, status, fix, SLA, group, package or CVE —
// the drill-down behind every number on the overview, exportable as CSV.
import { FindingsTable } from '../components/findings-table.tsx';
import { Card, PageHeader } from '../components/ui.tsx';

export function FindingsPage() {
  return (
    <>
      <PageHeader
        title="Findings"
        subtitle="Every vulnerability in every source package on every host, with its binary packages and the reason for each finding"
      />
      <Card id="findings">
        <FindingsTable id="findings" fixed={{}} show={{ host: true, group: true }} />
      </Card>
    </>
  );
}
