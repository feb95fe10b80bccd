// The overview's tile for findings out of the open counts by an exception rule: how many, and
// how many of them come back within a week (their rule expires).
import { useApi } from '../api/use-api.ts';
import { href } from '../lib/url.ts';
import type { ExceptedSummary } from './exception-form.tsx';
import { Kpi } from './ui.tsx';

export function ExceptedKpi(props: { group: string | undefined }) {
  const s = useApi<ExceptedSummary>('/api/v1/exceptions/summary', { group: props.group });
  return (
    <Kpi
      id="excepted"
      label="Excepted"
      value={s.data ? s.data.excepted.toLocaleString('en-US') : '…'}
      tone={s.data && s.data.expiring > 0 ? 'warn' : 'neutral'}
      sub={
        s.data ? <>{s.data.expiring.toLocaleString('en-US')} expire this week · out of the open counts</> : undefined
      }
      href={href('/exceptions', { state: 'active' })}
    />
  );
}
