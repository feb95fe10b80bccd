// Reports: the monthly management reports the server has made (PDF, HTML, JSON to open or
// download), and for operators a report of any month made now, sent through the notification
// channels if asked. The server makes last month's report by itself early each month.
import { useState } from 'preact/hooks';
import { ApiError, apiSend } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import { DataTable, type Column } from '../components/table.tsx';
import { Card, PageHeader } from '../components/ui.tsx';
import { dateTime, plural } from '../lib/format.ts';
import { useCan } from '../lib/session.tsx';
import { monthName } from './month-name.ts';

interface StoredReport {
  month: string;
  files: { name: string; format: string; bytes: number; created_at: string }[];
}

const FORMAT_LABEL: Record<string, string> = { pdf: 'PDF', html: 'HTML', json: 'JSON' };

function size(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1000))} kB`;
}

/** The last whole month and the eleven before it, newest first. */
function recentMonths(now = new Date()): string[] {
  return Array.from({ length: 12 }, (_, i) =>
    new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1 - i, 1)).toISOString().slice(0, 7),
  );
}

const COLUMNS: Column<StoredReport>[] = [
  { key: 'month', label: 'Month', render: (r) => <strong>{monthName(r.month)}</strong> },
  {
    key: 'files',
    label: 'Files',
    render: (r) => (
      <span style={{ display: 'inline-flex', gap: '16px' }}>
        {['pdf', 'html', 'json'].flatMap((f) => {
          const file = r.files.find((x) => x.format === f);
          return file
            ? [
                <a
                  key={f}
                  href={`/api/v1/monthly-reports/${file.name}`}
                  data-file={file.name}
                  target={f === 'html' ? '_blank' : undefined}
                  rel="noopener"
                >
                  {FORMAT_LABEL[f]} <span class="muted small">{size(file.bytes)}</span>
                </a>,
              ]
            : [];
        })}
      </span>
    ),
  },
  {
    key: 'made',
    label: 'Made',
    render: (r) =>
      `${dateTime(
        r.files
          .map((f) => f.created_at)
          .sort()
          .at(-1),
      )} UTC`,
  },
];

export function ReportsPage() {
  const list = useApi<StoredReport[]>('/api/v1/monthly-reports');
  const canMake = useCan('operator');
  const months = recentMonths();
  const [month, setMonth] = useState(months[0]);
  const [send, setSend] = useState(false);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ bad: boolean; text: string } | null>(null);
  const make = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setNote(null);
    try {
      const r = await apiSend<{ sent: number[] }>('POST', '/api/v1/monthly-reports', { month, send });
      setNote({
        bad: false,
        text: `The report of ${monthName(month)} is made${send ? `; ${plural(r.sent.length, 'message')} queued` : ''}.`,
      });
      list.reload();
    } catch (err) {
      setNote({ bad: true, text: err instanceof ApiError ? err.message : (err as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageHeader
        title="Reports"
        subtitle="The monthly management report: exposure and its trend, SLA compliance, time to remediate, known exploited, patching, remediation, exceptions, support. The server makes last month's early each month and sends it through the notification channels."
      />
      {canMake && (
        <Card title="Make a report now" note="Printed by Chromium on the server; this takes a few seconds.">
          <form class="form-row" data-form="make-report" onSubmit={make}>
            <label>
              <span>Month</span>
              <select name="report-month" value={month} onChange={(e) => setMonth(e.currentTarget.value)}>
                {months.map((m) => (
                  <option key={m} value={m}>
                    {monthName(m)}
                  </option>
                ))}
              </select>
            </label>
            <label style={{ flexDirection: 'row', alignItems: 'center', gap: '6px', alignSelf: 'flex-end' }}>
              <input
                type="checkbox"
                style={{ width: 'auto', minWidth: 0, flex: 'none' }}
                name="report-send"
                checked={send}
                onChange={(e) => setSend(e.currentTarget.checked)}
              />
              <span>Send through the notification channels</span>
            </label>
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Making…' : 'Make report'}
            </button>
            {note && (
              <p class={note.bad ? 'form-error' : 'muted'} role={note.bad ? 'alert' : 'status'}>
                {note.text}
              </p>
            )}
          </form>
        </Card>
      )}
      <Card title="Reports made">
        <DataTable
          id="reports"
          columns={COLUMNS}
          rows={list.data}
          rowKey={(r) => r.month}
          loading={list.loading}
          error={list.error}
          retry={list.reload}
          empty="No report yet: the server makes last month's early in the month, or make one above."
        />
      </Card>
    </>
  );
}
