// Sending the spool: oldest report first, as a delta on the last acknowledged inventory when
// there is one (a full report when there is none, or when the server asks for it). Transient
// failures back off (net/backoff.ts); the backoff state is kept in the spool, so it continues
// across runs. A report id is fixed when the report is spooled: a resend after a
// lost answer is recognised by the server and changes nothing there.
import {
  packageDelta,
  packageDigest,
  REPORT_SCHEMA,
  ReportAckSchema,
  ResendFullSchema,
  type Report,
  type ReportAck,
} from '../core/protocol.ts';
import { loadAcked, saveAcked, type AckedState } from './acked.ts';
import { backoffDelay, type BackoffPolicy } from '../net/backoff.ts';
import { jsonBody, type AgentHttpClient } from './http.ts';
import type { Spool, SpoolEntry } from './spool.ts';
import { errorCode, PatchloopError } from '../core/errors.ts';

export interface RetryPolicy extends BackoffPolicy {
  /** Attempts within one run. */
  attempts: number;
}

export interface SendDeps {
  spool: Spool;
  client: AgentHttpClient;
  stateDir: string;
  hostId: number;
  agentVersion: string;
  retry: RetryPolicy;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
  /** Ignore the persisted backoff (a person asked to send now). */
  force?: boolean;
}

export interface SendOutcome {
  sent: number;
  pending: number;
  rejected: number;
  /** Why sending stopped early (server unreachable, credential refused). */
  stoppedBy: 'none' | 'backoff' | 'unreachable' | 'unauthorized';
  message: string | null;
  /** What the server said of the reports sent: finding changes summed, `open` as of the last. */
  changes: ReportAck['changes'] | null;
}

/** The credential was refused (revoked, host removed): retrying will not help. */
export class CredentialRefusedError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_CREDENTIAL_REFUSED', message);
  }
}

export function buildReport(entry: SpoolEntry, acked: AckedState | null, agentVersion: string): Report {
  const common = {
    schema: REPORT_SCHEMA,
    report_id: entry.report_id,
    collected_at: entry.snapshot.collected_at,
    agent: { version: agentVersion },
    host: entry.snapshot.host,
    digest: packageDigest(entry.snapshot.packages),
    warnings: entry.snapshot.warnings,
    skipped_reports: entry.skipped_reports,
  } as const;
  if (!acked || entry.force_full) return { ...common, kind: 'full', packages: entry.snapshot.packages };
  const { added, removed } = packageDelta(acked.packages, entry.snapshot.packages);
  return { ...common, kind: 'delta', base: acked.digest, added, removed };
}

export async function sendSpool(d: SendDeps): Promise<SendOutcome> {
  const out: SendOutcome = { sent: 0, pending: 0, rejected: 0, stoppedBy: 'none', message: null, changes: null };
  const entries = d.spool.list();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (!d.force && entry.next_attempt_at > d.now()) {
      out.pending = entries.length - i;
      out.stoppedBy = 'backoff';
      out.message = `next attempt after ${new Date(entry.next_attempt_at).toISOString()} (backoff)`;
      return out;
    }
    const result = await sendOne(d, entry);
    if (typeof result === 'object') {
      out.sent++;
      out.changes = addChanges(out.changes, result.changes);
    } else if (result === 'rejected') out.rejected++;
    else {
      out.pending = entries.length - i;
      out.stoppedBy = 'unreachable';
      out.message = entry.last_error;
      return out;
    }
  }
  return out;
}

function addChanges(sum: ReportAck['changes'] | null, c: ReportAck['changes']): ReportAck['changes'] {
  if (!sum) return { ...c };
  return {
    detected: sum.detected + c.detected,
    resolved: sum.resolved + c.resolved,
    reopened: sum.reopened + c.reopened,
    open: c.open,
  };
}

/** The server's acknowledgement of a report sent, or why it was not. */
async function sendOne(d: SendDeps, entry: SpoolEntry): Promise<ReportAck | 'rejected' | 'pending'> {
  let tries = 0;
  let resent = false;
  for (;;) {
    const acked = currentAcked(d);
    const report = buildReport(entry, acked, d.agentVersion);
    let failure: string;
    try {
      const res = await d.client.request('POST', '/api/v1/reports', { json: report, gzip: true });
      const body = jsonBody(res);
      if (res.status === 200) {
        const ack = ReportAckSchema.safeParse(body);
        if (!ack.success) {
          failure = `server answered 200 without an acknowledgement (${ack.error.issues[0]?.message})`;
        } else {
          saveAcked(d.stateDir, {
            server: d.client.origin,
            host_id: d.hostId,
            digest: ack.data.digest,
            report_id: report.report_id,
            acked_at: ack.data.received_at,
            packages: entry.snapshot.packages,
          });
          d.spool.remove(entry);
          d.log.info(
            { report_id: report.report_id, kind: report.kind, status: ack.data.status, changes: ack.data.changes },
            ack.data.status === 'duplicate' ? 'report had already been received' : 'report sent',
          );
          return ack.data;
        }
      } else if (res.status === 409 && ResendFullSchema.safeParse(body).success && !resent) {
        // The server's copy differs from ours (restored backup, removed host data): start over.
        d.log.warn(
          { report_id: report.report_id, reason: (body as { message: string }).message },
          'server asked for a full report',
        );
        entry.force_full = true;
        d.spool.update(entry);
        resent = true;
        continue;
      } else if (res.status === 401 || res.status === 403) {
        throw new CredentialRefusedError(
          `the server refused this host's credential (${res.status}); it may have been revoked: enrol again with \`patchloop agent enroll\``,
        );
      } else if (
        res.status === 400 ||
        res.status === 409 ||
        res.status === 413 ||
        res.status === 415 ||
        res.status === 422
      ) {
        const message = (body as { message?: string } | null)?.message ?? res.body.toString('utf8').slice(0, 500);
        const where = d.spool.reject(entry, `server answered ${res.status}: ${message}`);
        d.log.error(
          { report_id: report.report_id, status: res.status, message, kept: where },
          'server rejected the report',
        );
        return 'rejected';
      } else {
        failure = `server answered ${res.status}`;
      }
    } catch (err) {
      if (errorCode(err) !== 'PL_E_SERVER_UNREACHABLE') throw err;
      failure = (err as Error).message;
    }
    tries++;
    entry.attempts++;
    entry.last_error = failure;
    const delay = backoffDelay(entry.attempts - 1, d.retry, d.random);
    entry.next_attempt_at = d.now() + delay;
    d.spool.update(entry);
    if (tries >= d.retry.attempts) {
      d.log.warn(
        {
          report_id: entry.report_id,
          attempts: entry.attempts,
          error: failure,
          next_attempt_at: new Date(entry.next_attempt_at).toISOString(),
        },
        'server unreachable; report stays spooled',
      );
      return 'pending';
    }
    d.log.warn(
      { report_id: entry.report_id, attempt: entry.attempts, error: failure, retry_in_ms: delay },
      'send failed; retrying',
    );
    await d.sleep(delay);
  }
}

function currentAcked(d: SendDeps): AckedState | null {
  const a = loadAcked(d.stateDir);
  // A base acknowledged by another server or host record is no base at all.
  return a && a.server === d.client.origin && a.host_id === d.hostId ? a : null;
}
