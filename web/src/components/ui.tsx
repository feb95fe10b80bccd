// Small building blocks every page uses: cards, KPI tiles, badges, notes and tabs.
import type { ComponentChildren } from 'preact';
import { SEVERITY_LABEL, STATUS_LABEL, type Severity } from '../lib/severity.ts';

export function PageHeader(props: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle && <p class="subtitle">{props.subtitle}</p>}
      </div>
      {props.actions && <div class="page-actions">{props.actions}</div>}
    </header>
  );
}

export function Card(props: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  id?: string;
  note?: ComponentChildren;
}) {
  return (
    <section class={`card ${props.class ?? ''}`} id={props.id} data-card={props.id}>
      {(props.title || props.actions) && (
        <div class="card-head">
          <div>
            {props.title && <h2>{props.title}</h2>}
            {props.note && <p class="card-note">{props.note}</p>}
          </div>
          {props.actions && <div class="card-actions">{props.actions}</div>}
        </div>
      )}
      {props.children}
    </section>
  );
}

export type Tone = 'neutral' | 'good' | 'warn' | 'bad';

export function Kpi(props: {
  id: string;
  label: string;
  value: string;
  sub?: ComponentChildren;
  tone?: Tone;
  href?: string;
}) {
  const body = (
    <>
      <span class="kpi-label">{props.label}</span>
      <span class="kpi-value" data-value>
        {props.value}
      </span>
      {props.sub && <span class="kpi-sub">{props.sub}</span>}
    </>
  );
  const cls = `kpi tone-${props.tone ?? 'neutral'}`;
  return props.href ? (
    <a class={cls} href={props.href} data-kpi={props.id}>
      {body}
    </a>
  ) : (
    <div class={cls} data-kpi={props.id}>
      {body}
    </div>
  );
}

export function SeverityBadge(props: { severity: Severity | string }) {
  const s = props.severity as Severity;
  return <span class={`sev sev-${s}`}>{SEVERITY_LABEL[s] ?? props.severity}</span>;
}

export function StatusBadge(props: { status: string }) {
  return <span class={`status status-${props.status}`}>{STATUS_LABEL[props.status] ?? props.status}</span>;
}

export function Badge(props: { tone?: Tone; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge tone-${props.tone ?? 'neutral'}`} title={props.title}>
      {props.children}
    </span>
  );
}

/** A count cell that fades zeros so the eye finds the non-zero ones. */
export function Count(props: { n: number; severity?: Severity }) {
  if (props.n === 0) return <span class="zero">0</span>;
  return (
    <span class={props.severity ? `count count-${props.severity}` : 'count'}>{props.n.toLocaleString('en-US')}</span>
  );
}

export function Empty(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty" role="note">
      <strong>{props.title}</strong>
      {props.children && <p>{props.children}</p>}
    </div>
  );
}

/** Where a figure cannot be given yet: says so, and why, instead of a dash. */
export function NoData(props: { why: string }) {
  return (
    <span class="no-data muted" data-no-data>
      no data yet<small>{props.why}</small>
    </span>
  );
}

export function ErrorNote(props: { error: Error; retry?: () => void }) {
  return (
    <div class="error-note" role="alert">
      <strong>Could not load this.</strong> {props.error.message}
      {props.retry && (
        <button type="button" class="link" onClick={props.retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading(props: { label?: string }) {
  return (
    <div class="loading" aria-busy="true">
      {props.label ?? 'Loading…'}
    </div>
  );
}

export function Tabs(props: { tabs: { id: string; label: ComponentChildren; href: string }[]; active: string }) {
  return (
    <nav class="tabs" role="tablist">
      {props.tabs.map((t) => (
        <a
          key={t.id}
          role="tab"
          aria-selected={t.id === props.active}
          class={t.id === props.active ? 'tab active' : 'tab'}
          href={t.href}
        >
          {t.label}
        </a>
      ))}
    </nav>
  );
}

/** A labelled value in a definition grid (host facts, vulnerability facts). */
export function Facts(props: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {props.items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
