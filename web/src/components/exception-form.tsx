// The form that makes an exception rule (operators): scope, kind, justification, owner, expiry.
// Opened empty on the exceptions page, or from a finding with its vulnerability, package and host
// filled in. The server checks everything again (required expiry, its limit, no wildcards).
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import type * as E from '../../../src/server/api/exception-schemas.ts';
import { ApiError, apiSend } from '../api/client.ts';

export type ExceptionRule = z.infer<typeof E.ExceptionSchema>;
export type ExceptionDetail = z.infer<typeof E.ExceptionDetailSchema>;
export type ExceptionList = z.infer<typeof E.ExceptionListSchema>;
export type ExceptedSummary = z.infer<typeof E.ExceptedSummarySchema>;

export const KIND_LABEL: Record<ExceptionRule['kind'], string> = {
  accepted_risk: 'Accepted risk',
  false_positive: 'False positive',
  mitigated: 'Mitigated',
  will_fix_later: 'Will fix later',
};

export const SCOPE_FIELDS = ['vulnerability', 'package', 'host', 'group', 'tag'] as const;
type ScopeField = (typeof SCOPE_FIELDS)[number];
export type Scope = Partial<Record<ScopeField, string>>;

/** A date `days` from today (UTC), as a date input wants it. */
function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

export function ExceptionForm(props: { initial: Scope; onDone(rule: ExceptionRule): void; onCancel?(): void }) {
  const [scope, setScope] = useState<Scope>(props.initial);
  const [kind, setKind] = useState<ExceptionRule['kind']>('accepted_risk');
  const [justification, setJustification] = useState('');
  const [owner, setOwner] = useState('');
  const [expires, setExpires] = useState(inDays(30));
  const [coverEscalation, setCoverEscalation] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const given = Object.fromEntries(Object.entries(scope).filter(([, v]) => v && v.trim() !== ''));
    try {
      const rule = await apiSend<ExceptionRule>('POST', '/api/v1/exceptions', {
        scope: given,
        kind,
        justification,
        ...(owner ? { owner } : {}),
        ...(expires ? { expires_at: expires } : {}),
        ...(coverEscalation ? { cover_escalation: true } : {}),
      });
      props.onDone(rule);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="exception-form" onSubmit={submit} data-form="new-exception">
      <div class="form-row">
        {SCOPE_FIELDS.map((f) => (
          <label key={f}>
            <span>{f[0].toUpperCase() + f.slice(1)}</span>
            <input
              name={`scope-${f}`}
              value={scope[f] ?? ''}
              placeholder="any"
              onInput={(e) => setScope({ ...scope, [f]: e.currentTarget.value })}
            />
          </label>
        ))}
      </div>
      <div class="form-row">
        <label>
          <span>Kind</span>
          <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as ExceptionRule['kind'])}>
            {Object.entries(KIND_LABEL).map(([k, l]) => (
              <option key={k} value={k}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Expires{kind === 'accepted_risk' ? '' : ' (optional)'}</span>
          <input
            name="expires"
            type="date"
            value={expires}
            required={kind === 'accepted_risk'}
            onInput={(e) => setExpires(e.currentTarget.value)}
          />
        </label>
        <label>
          <span>Owner</span>
          <input name="owner" value={owner} onInput={(e) => setOwner(e.currentTarget.value)} />
        </label>
        <label class="checkbox">
          <input
            name="cover-escalation"
            type="checkbox"
            checked={coverEscalation}
            onChange={(e) => setCoverEscalation(e.currentTarget.checked)}
          />
          <span>Keep holding if the severity rises</span>
        </label>
      </div>
      <label class="exception-justification">
        <span>Justification</span>
        <textarea
          name="justification"
          required
          rows={2}
          value={justification}
          onInput={(e) => setJustification(e.currentTarget.value)}
        />
      </label>
      <div class="form-row">
        <button type="submit" class="primary" disabled={busy}>
          Create exception
        </button>
        {props.onCancel && (
          <button type="button" class="link" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
