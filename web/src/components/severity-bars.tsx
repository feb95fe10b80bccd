// Open findings per severity as horizontal bars, split into "fix available now" and "no fix
// yet", with the exact counts beside each bar.
import type { SeverityCounts } from '../api/types.ts';
import { int } from '../lib/format.ts';
import { href } from '../lib/url.ts';
import { SEVERITIES, SEVERITY_LABEL } from '../lib/severity.ts';

export function SeverityBars(props: { open: SeverityCounts; fixable: SeverityCounts; group?: string }) {
  const max = Math.max(1, ...SEVERITIES.map((s) => props.open[s]));
  return (
    <div class="sevbars" data-chart="open-by-severity">
      <div class="sevbars-legend">
        <span>
          <span class="key key-fix" />
          Fix available now
        </span>
        <span>
          <span class="key key-nofix" />
          No fix yet
        </span>
      </div>
      {SEVERITIES.map((s) => {
        const open = props.open[s];
        const fix = props.fixable[s];
        return (
          <a class="sevbar" key={s} data-severity={s} href={href('/findings', { severity: s, group: props.group })}>
            <span class="sevbar-label">
              <span class={`dot dot-${s}`} />
              {SEVERITY_LABEL[s]}
            </span>
            <span class="sevbar-track">
              <span class={`sevbar-fix bg-${s}`} style={{ width: `${(fix / max) * 100}%` }} />
              <span class={`sevbar-nofix bg-${s}`} style={{ width: `${((open - fix) / max) * 100}%` }} />
            </span>
            <span class="sevbar-nums">
              <b data-open>{int(open)}</b> open
              <span class="muted">
                <span data-fixable>{int(fix)}</span> fixable
              </span>
            </span>
          </a>
        );
      })}
    </div>
  );
}
