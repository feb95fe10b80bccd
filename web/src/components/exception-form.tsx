// The forms of exception rules (operators). One makes a rule: scope, kind, justification, owner,
// expiry; opened empty on the exceptions page, or from a finding with its vulnerability, package
// and host filled in. The other changes a rule in force (a new version): justification, owner,
// expiry and cover_escalation, as PATCH /api/v1/exceptions/{id} takes them. The server checks
// everything (required expiry, its limit, no wildcards) and its message is the one shown.
import type { ComponentChildren } from 'preact';
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

function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : (err as Error).message;
}

/** A form's sending: busy while the request runs, the server's message when it fails. */
function useSend(send: () => Promise<ExceptionRule>, onDone: (rule: ExceptionRule) => void) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await send());
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, submit };
}

/** What a rule says besides its scope and kind, as the form edits it. */
interface Terms {
  justification: string;
  owner: string;
  /** A date (YYYY-MM-DD, its end in UTC) or empty: no expiry. */
  expires: string;
  coverEscalation: boolean;
}

/** The fields of a rule's terms: expiry, owner and cover_escalation beside `lead`, the justification below. */
function TermsFields(props: {
  kind: ExceptionRule['kind'];
  terms: Terms;
  onChange(terms: Terms): void;
  lead?: ComponentChildren;
}) {
  const t = props.terms;
  const set = (change: Partial<Terms>) => props.onChange({ ...t, ...change });
  return (
    <>
      <div class="form-row">
        {props.lead}
        <label>
          <span>Expires{props.kind === 'accepted_risk' ? '' : ' (optional)'}</span>
          <input
            name="expires"
            type="date"
            value={t.expires}
            required={props.kind === 'accepted_risk'}
            onInput={(e) => set({ expires: e.currentTarget.value })}
          />
        </label>
        <label>
          <span>Owner</span>
          <input name="owner" value={t.owner} onInput={(e) => set({ owner: e.currentTarget.value })} />
        </label>
        <label class="checkbox">
          <input
            name="cover-escalation"
            type="checkbox"
            checked={t.coverEscalation}
            onChange={(e) => set({ coverEscalation: e.currentTarget.checked })}
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
          value={t.justification}
          onInput={(e) => set({ justification: e.currentTarget.value })}
        />
      </label>
    </>
  );
}

function FormEnd(props: { submit: string; busy: boolean; error: string | null; onCancel?(): void }) {
  return (
    <>
      <div class="form-row">
        <button type="submit" class="primary" disabled={props.busy}>
          {props.submit}
        </button>
        {props.onCancel && (
          <button type="button" class="link" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
      {props.error && (
        <p class="form-error" role="alert">
          {props.error}
        </p>
      )}
    </>
  );
}

export function ExceptionForm(props: { initial: Scope; onDone(rule: ExceptionRule): void; onCancel?(): void }) {
  const [scope, setScope] = useState<Scope>(props.initial);
  const [kind, setKind] = useState<ExceptionRule['kind']>('accepted_risk');
  const [terms, setTerms] = useState<Terms>({
    justification: '',
    owner: '',
    expires: inDays(30),
    coverEscalation: false,
  });
  const { justification, owner, expires, coverEscalation } = terms;
  const { error, busy, submit } = useSend(() => {
    const given = Object.fromEntries(Object.entries(scope).filter(([, v]) => v && v.trim() !== ''));
    return apiSend<ExceptionRule>('POST', '/api/v1/exceptions', {
      scope: given,
      kind,
      justification,
      ...(owner ? { owner } : {}),
      ...(expires ? { expires_at: expires } : {}),
      ...(coverEscalation ? { cover_escalation: true } : {}),
    });
  }, props.onDone);

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
      <TermsFields
        kind={kind}
        terms={terms}
        onChange={setTerms}
        lead={
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
        }
      />
      <FormEnd submit="Create exception" busy={busy} error={error} onCancel={props.onCancel} />
    </form>
  );
}

/** The date an expiry falls on (UTC), as a date input shows it; empty for none. */
function dateOf(iso: string | null): string {
  return iso ? iso.slice(0, 10) : '';
}

/**
 * A change of a rule in force (its next version): only the fields changed are sent, as a client of
 * the API would. No check in the browser (noValidate): the server's messages (an expiry too far
 * away, none for an accepted risk, nothing changed) are the ones shown, word for word.
 */
export function ExceptionEditForm(props: { rule: ExceptionRule; onDone(rule: ExceptionRule): void; onCancel(): void }) {
  const r = props.rule;
  const [terms, setTerms] = useState<Terms>({
    justification: r.justification,
    owner: r.owner ?? '',
    expires: dateOf(r.expires_at),
    coverEscalation: r.cover_escalation,
  });
  const { error, busy, submit } = useSend(() => {
    const owner = terms.owner.trim();
    return apiSend<ExceptionRule>('PATCH', `/api/v1/exceptions/${r.id}`, {
      ...(terms.justification !== r.justification ? { justification: terms.justification } : {}),
      ...(owner !== (r.owner ?? '') ? { owner: owner || null } : {}),
      ...(terms.expires !== dateOf(r.expires_at) ? { expires_at: terms.expires || null } : {}),
      ...(terms.coverEscalation !== r.cover_escalation ? { cover_escalation: terms.coverEscalation } : {}),
    });
  }, props.onDone);

  return (
    <form class="exception-form" onSubmit={submit} noValidate data-form="edit-exception" data-exception={r.id}>
      <TermsFields kind={r.kind} terms={terms} onChange={setTerms} />
      <FormEnd submit="Save exception" busy={busy} error={error} onCancel={props.onCancel} />
    </form>
  );
}
