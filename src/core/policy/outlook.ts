// "What will happen to this host in the next 24 hours, and why": its ring, the window, the
// ring gate at the window's start, what gets installed, how reboots and restarts go.
import { ringGate, ringOf, type GateDecision, type HostHistory, type HostRef } from './rings.ts';
import type { InstallPolicy, PatchPolicy } from './schema.ts';
import { DAY, describeInstant, describeInterval, nextWindow, type WindowInterval } from './windows.ts';
import { counted } from '../plural.ts';

/** A human sentence for the install rules. */
export function describeInstall(install: InstallPolicy): string {
  const parts = [install.updates === 'security' ? 'security updates only' : 'all stable updates'];
  if (install.allowlist.length > 0) {
    parts.push(
      `${install.allowlist_strict ? 'strictly ' : ''}limited to ${install.allowlist.join(', ')}${install.allowlist_strict ? '' : ' and what they need'}`,
    );
  }
  if (install.blocklist.length > 0) parts.push(`never ${install.blocklist.join(', ')}`);
  parts.push(
    install.config_files === 'keep_local'
      ? 'locally changed config files are kept'
      : 'packages with locally changed config files are skipped',
  );
  return parts.join('; ');
}

export interface HostOutlook {
  host: string;
  group: string;
  policy: { name: string; version: number };
  ring: { index: number; name: string } | null;
  /** The window the run falls in (current or next within 24 h); null: none, or no windows. */
  window: { start: string; end: string; time_zone: string } | null;
  gate: GateDecision;
  will_patch: boolean;
  /** When patching will (or could) start; null when it will not happen in the next 24 h. */
  patch_at: string | null;
  install: string;
  reboot: string;
  /** The explanation, one sentence per line. */
  lines: string[];
}

/**
 * What will happen to `host` in the next 24 hours under `policy`, and why: its ring, the window,
 * the ring gate evaluated at the window's start, what gets installed and how reboots go.
 */
export function hostOutlook(
  policy: PatchPolicy,
  host: HostRef,
  histories: readonly (readonly HostHistory[])[],
  now: number,
): HostOutlook {
  const lines: string[] = [];
  const ringIndex = ringOf(policy, host);
  const base = {
    host: host.hostname,
    group: policy.group,
    policy: { name: policy.name, version: policy.version },
    install: describeInstall(policy.install),
  };
  lines.push(`Policy ${policy.name} v${policy.version} for group ${policy.group}.`);
  if (ringIndex < 0) {
    lines.push(`No ring selects ${host.hostname}, so it is not patched. Add it to a ring (by name or tag).`);
    return {
      ...base,
      ring: null,
      window: null,
      gate: { state: 'blocked', reasons: ['not in any ring'] },
      will_patch: false,
      patch_at: null,
      reboot: 'no reboot',
      lines,
    };
  }
  const ring = { index: ringIndex, name: policy.rings[ringIndex].name };
  lines.push(`${host.hostname} is in ring ${ring.name} (${ringIndex + 1} of ${policy.rings.length}).`);

  const windows = policy.schedule.windows;
  let interval: WindowInterval | null = null;
  let at = now;
  if (windows.length > 0) {
    interval = nextWindow(windows, now);
    if (!interval || interval.start > now + DAY) {
      lines.push(
        `No maintenance window opens in the next 24 hours${interval ? `; the next one is ${describeInterval(interval)}` : ''}.`,
      );
      const gate = ringGate(policy, ringIndex, histories, now);
      return {
        ...base,
        ring,
        window: null,
        gate,
        will_patch: false,
        patch_at: null,
        reboot: describeReboot(policy, null),
        lines,
      };
    }
    at = Math.max(now, interval.start);
    lines.push(
      interval.start <= now
        ? `The maintenance window is open now: ${describeInterval(interval)}.`
        : `Next maintenance window: ${describeInterval(interval)}.`,
    );
  } else {
    lines.push('The policy has no maintenance windows: patching may run at any time.');
  }

  // Evaluate the gate at the window's start, and if it is still soaking then, at its end.
  let gate = ringGate(policy, ringIndex, histories, at);
  if (gate.state === 'waiting' && interval && Date.parse(gate.until) < interval.end) {
    at = Date.parse(gate.until);
    gate = ringGate(policy, ringIndex, histories, at);
  }
  lines.push(...gate.reasons.map((r, i) => (i === 0 ? `Ring gate ${gate.state}: ${r}` : `  - ${r}`)));
  const willPatch = gate.state === 'open';
  if (willPatch) {
    lines.push(
      policy.schedule.runner === 'timer'
        ? `The distribution's timer installs ${describeInstall(policy.install)}.`
        : `patchloop will install ${describeInstall(policy.install)}, from ${interval ? describeInstant(at, interval.window.time_zone) : 'now'}.`,
    );
  } else {
    lines.push('Nothing will be installed in this window.');
  }
  const reboot = describeReboot(policy, interval);
  lines.push(`Reboots: ${reboot}.`);
  lines.push(
    `Services: ${policy.restart.services === 'restart' ? `services using replaced libraries are restarted (except ${policy.restart.exclude.join(', ') || 'none'})` : 'services needing a restart are reported, not restarted'}.`,
  );
  return {
    ...base,
    ring,
    window: interval
      ? {
          start: new Date(interval.start).toISOString(),
          end: new Date(interval.end).toISOString(),
          time_zone: interval.window.time_zone,
        }
      : null,
    gate,
    will_patch: willPatch,
    patch_at: willPatch ? new Date(at).toISOString() : null,
    reboot,
    lines,
  };
}

function describeReboot(policy: PatchPolicy, interval: WindowInterval | null): string {
  const r = policy.reboot;
  if (r.mode === 'never') return 'never; a required reboot is only reported';
  const where =
    r.only_in_window && policy.schedule.windows.length > 0
      ? interval
        ? `inside the window (${describeInterval(interval)})`
        : 'only inside a maintenance window'
      : 'at any time';
  return `when required, ${where}, with a lease from the server (at most ${counted(r.max_concurrent, 'host')} of ${policy.group} at once, lease expires after ${r.lease_ttl_minutes} min)`;
}
