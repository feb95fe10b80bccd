// Patch runs as the dashboard shows them: outcome and ring-gate badges, the runs table and its
// CSV, used by the Patching page and the host page alike.
import type { ComponentChildren } from 'preact';
import type { Gate, PatchOutcome, PatchRun } from '../api/types.ts';
import type { CsvColumn } from '../lib/csv.ts';
import { dateTime, int, relative } from '../lib/format.ts';
import type { Column } from './table.tsx';
import { Badge, type Tone } from './ui.tsx';

export const OUTCOMES: PatchOutcome[] = ['success', 'nothing_to_do', 'partial', 'failed', 'skipped', 'dry_run'];

export const OUTCOME_LABEL: Record<PatchOutcome, string> = {
  success: 'Success',
  nothing_to_do: 'Nothing to do',
  partial: 'Partly failed',
  failed: 'Failed',
  skipped: 'Skipped',
  dry_run: 'Dry run',
};

const OUTCOME_TONE: Record<PatchOutcome, Tone> = {
  success: 'good',
  nothing_to_do: 'good',
  partial: 'warn',
  failed: 'bad',
  skipped: 'neutral',
  dry_run: 'neutral',
};

export function OutcomeBadge(props: { outcome: PatchOutcome; title?: string }) {
  return (
    <span data-outcome={props.outcome}>
      <Badge tone={OUTCOME_TONE[props.outcome]} title={props.title}>
        {OUTCOME_LABEL[props.outcome]}
      </Badge>
    </span>
  );
}

const GATE_TONE: Record<Gate['state'], Tone> = { open: 'good', waiting: 'warn', blocked: 'bad' };

/** The ring gate now: open, waiting (until when) or blocked, with the reasons below it. */
export function GateBadge(props: { gate: Gate; reasons?: boolean }) {
  const g = props.gate;
  return (
    <span class="gate" data-gate={g.state}>
      <Badge tone={GATE_TONE[g.state]} title={g.reasons.join('\n')}>
        {g.state === 'waiting' ? `waiting until ${dateTime(g.until)} UTC` : g.state}
      </Badge>
      {props.reasons !== false && g.reasons.length > 0 && (
        <ul class="reasons">
          {g.reasons.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      )}
    </span>
  );
}

const REBOOT_LABEL: Record<string, string> = {
  not_required: 'not needed',
  pending_lease: 'waiting for a lease',
  rebooting: 'rebooting',
  rebooted: 'rebooted',
  policy_never: 'needed; policy: never',
  pending_window: 'waiting for a window',
  failed: 'reboot failed',
  unknown: 'unknown',
};

export function rebootText(r: PatchRun['reboot']): string {
  return REBOOT_LABEL[r.status] ?? r.status.replace(/_/g, ' ');
}

function changesCell(r: PatchRun): ComponentChildren {
  if (r.changes.length === 0) return <span class="zero">0</span>;
  return (
    <span
      title={r.changes
        .map((c) => `${c.action} ${c.name} ${c.from ?? ''} → ${c.to ?? ''}${c.ok ? '' : ' (failed)'}`)
        .join('\n')}
    >
      {int(r.changes.length)}
      {r.failed_changes > 0 && <span class="bad-text"> ({int(r.failed_changes)} failed)</span>}
    </span>
  );
}

/** The runs table's columns; `host: false` on a host's own page. */
export function runColumns(o: { host: boolean }): Column<PatchRun>[] {
  const cols: Column<PatchRun>[] = [
    {
      key: 'finished',
      label: 'Finished (UTC)',
      render: (r) => (
        <span class="nowrap" title={r.finished_at}>
          {dateTime(r.finished_at)}
        </span>
      ),
    },
  ];
  if (o.host) {
    cols.push(
      {
        key: 'host',
        label: 'Host',
        render: (r) => (
          <a class="strong nowrap" href={`/hosts/${r.host.id}?tab=patching`}>
            {r.host.hostname}
          </a>
        ),
      },
      { key: 'group', label: 'Group', render: (r) => r.host.group || <span class="muted">—</span> },
    );
  }
  cols.push(
    {
      key: 'policy',
      label: 'Policy',
      render: (r) => <span class="nowrap">{`${r.policy.name} v${r.policy.version}`}</span>,
    },
    {
      key: 'outcome',
      label: 'Outcome',
      render: (r) => <OutcomeBadge outcome={r.outcome} title={r.skip_reason ?? r.errors[0]?.message} />,
    },
    { key: 'changes', label: 'Changed', align: 'right', render: changesCell },
    {
      key: 'held_back',
      label: 'Held back',
      align: 'right',
      render: (r) =>
        r.held_back.length ? (
          <span title={r.held_back.map((h) => `${h.name}: ${h.reason}`).join('\n')}>{int(r.held_back.length)}</span>
        ) : (
          <span class="zero">0</span>
        ),
    },
    {
      key: 'cves',
      label: 'CVEs closed',
      align: 'right',
      render: (r) =>
        r.cves_closed === null ? (
          <span class="muted" title="confirmed by the host's next inventory report">
            pending
          </span>
        ) : (
          <span title={r.cves_closed.join(' ')}>{int(r.cves_closed.length)}</span>
        ),
    },
    {
      key: 'reboot',
      label: 'Reboot',
      render: (r) => (
        <span class="nowrap" title={r.reboot.back_at ? `back ${r.reboot.back_at}` : undefined}>
          {rebootText(r.reboot)}
        </span>
      ),
    },
    {
      key: 'note',
      label: 'Why',
      class: 'cell-note',
      render: (r) =>
        r.skip_reason ? (
          <span class="muted">{r.skip_reason}</span>
        ) : r.errors.length ? (
          <span class="bad-text">{r.errors[0].message}</span>
        ) : (
          ''
        ),
    },
  );
  return cols;
}

export const RUN_CSV: CsvColumn<PatchRun>[] = [
  { header: 'id', value: (r) => r.id },
  { header: 'host_id', value: (r) => r.host.id },
  { header: 'hostname', value: (r) => r.host.hostname },
  { header: 'group', value: (r) => r.host.group },
  { header: 'policy', value: (r) => r.policy.name },
  { header: 'policy_version', value: (r) => r.policy.version },
  { header: 'backend', value: (r) => r.backend },
  { header: 'mode', value: (r) => r.mode },
  { header: 'started_at', value: (r) => r.started_at },
  { header: 'finished_at', value: (r) => r.finished_at },
  { header: 'outcome', value: (r) => r.outcome },
  { header: 'skip_reason', value: (r) => r.skip_reason },
  { header: 'changes', value: (r) => r.changes.length },
  { header: 'failed_changes', value: (r) => r.failed_changes },
  { header: 'packages', value: (r) => r.changes.map((c) => `${c.name}=${c.to ?? ''}`).join(' ') },
  { header: 'held_back', value: (r) => r.held_back.map((h) => h.name).join(' ') },
  { header: 'errors', value: (r) => r.errors.map((e) => `${e.kind}: ${e.message}`).join(' | ') },
  { header: 'reboot_status', value: (r) => r.reboot.status },
  { header: 'reboot_required', value: (r) => r.reboot.required },
  { header: 'reboot_back_at', value: (r) => r.reboot.back_at },
  { header: 'cves_closed', value: (r) => (r.cves_closed === null ? null : r.cves_closed.join(' ')) },
];

/** "in 3 h (2026-11-27 01:00 UTC)". */
export function whenText(iso: string | null): string {
  return iso ? `${relative(iso)} (${dateTime(iso)} UTC)` : '–';
}

/** With no patch run anywhere: the agent's switch that turns patching on. */
export function NoRunsYet(props: { host?: boolean }) {
  return (
    <>
      No patch run {props.host ? 'reported by this host' : 'has been reported yet'}. An agent patches, and reports each
      run, once its <code>/etc/patchloop/agent.yaml</code> has{' '}
      <code>
        patch: {'{'} enabled: true {'}'}
      </code>
      ; a policy then says when and what.
    </>
  );
}
