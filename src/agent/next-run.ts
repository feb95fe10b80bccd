// When the agent runs next: the systemd timer `patchloop agent install` enables, as systemd
// says it. Null when there is no such timer (not installed, not enabled, no systemd).
import { spawnSync } from 'node:child_process';

export const AGENT_TIMER = 'patchloop-agent.timer';

export function nextTimerRun(timer = AGENT_TIMER): string | null {
  const r = spawnSync('systemctl', ['show', timer, '--property=NextElapseUSecRealtime', '--value'], {
    encoding: 'utf8',
    timeout: 5000,
  });
  const when = r.status === 0 ? r.stdout.trim() : '';
  // systemd shows an inactive or unknown timer with an empty value (older versions: "n/a").
  return when && when !== 'n/a' ? when : null;
}
