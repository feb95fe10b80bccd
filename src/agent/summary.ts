// What `patchloop agent run` says to a person at a terminal: whether the report reached the
// server, what the server found in it, and when the agent runs again. (Scripts and systemd
// get the JSON log lines instead.)
import { counted } from '../core/plural.ts';
import type { RunOutcome } from './agent.ts';

export interface SummaryContext {
  /** The server the agent reports to. */
  server: string;
  /** When the systemd timer runs the agent next; null: no timer. */
  nextRun: string | null;
}

export function renderRunSummary(o: RunOutcome, c: SummaryContext): string {
  const lines: string[] = [];
  const inventory = `the inventory of ${counted(o.packages, 'package')}`;
  if (o.pending === 0 && o.rejected === 0) {
    lines.push(`Sent ${inventory} to ${c.server}.`);
    if (o.sent > 1) lines.push(`${counted(o.sent - 1, 'earlier report')} from the spool sent with it.`);
  } else if (o.pending > 0) {
    lines.push(
      o.stoppedBy === 'backoff'
        ? `Not sent yet: ${o.message ?? 'waiting before the next attempt'}.`
        : `Not sent: the server is unreachable${o.message ? ` (${o.message})` : ''}.`,
    );
    lines.push(
      `${counted(o.pending, 'report')} kept in the spool (${inventory}); the next run or \`patchloop agent flush\` sends ${o.pending === 1 ? 'it' : 'them'}.`,
    );
  }
  if (o.rejected > 0)
    lines.push(`The server rejected ${counted(o.rejected, 'report')} (kept under the spool's rejected/ directory).`);
  if (o.changes) {
    const ch = o.changes;
    lines.push(
      `The server found ${counted(ch.detected, 'new vulnerability', 'new vulnerabilities')}, ${ch.resolved} resolved, ${ch.reopened} reopened; ${ch.open} open on this host.`,
    );
  }
  if (o.patch) {
    const outcome = o.patch.outcome ? ` (${o.patch.outcome})` : '';
    lines.push(
      `Patching: ${o.patch.state.replace(/_/g, ' ')}${outcome}${o.patch.message ? `: ${o.patch.message}` : ''}.`,
    );
  }
  lines.push(
    c.nextRun ? `Next run: ${c.nextRun}.` : 'Next run: none scheduled (`patchloop agent install` sets up a daily run).',
  );
  return `${lines.join('\n')}\n`;
}
