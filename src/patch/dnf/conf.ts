// dnf-automatic configuration from a policy (RHEL, AlmaLinux, Rocky, Fedora). patchloop keeps
// its own file (/etc/patchloop/dnf-automatic.conf) for the runs it starts itself, and writes
// /etc/dnf/automatic.conf only when the policy leaves the running to dnf-automatic.timer.
// Reboots stay patchloop's (`reboot = never`): they need the window and the server's lease.
import { PACKAGE_PATTERN, type PatchPolicy } from '../../core/policy/schema.ts';
import { windowTimerDropIn } from '../systemd-timer.ts';

export const DNF_OWN_CONF = 'etc/patchloop/dnf-automatic.conf';
export const DNF_TIMER_CONF = 'etc/dnf/automatic.conf';
export const DNF_TIMER_DROPIN = 'etc/systemd/system/dnf-automatic.timer.d/51patchloop.conf';

/** dnf matches exclude/include entries as globs: a policy pattern is one already. */
function globList(patterns: readonly string[]): string {
  for (const p of patterns)
    if (!PACKAGE_PATTERN.test(p)) throw new Error(`not a package name pattern: ${JSON.stringify(p)}`);
  return patterns.join(' ');
}

export interface DnfConf {
  text: string;
  /** Policy settings dnf-automatic cannot express, to report with the run. */
  warnings: string[];
}

export function dnfAutomaticConf(policy: PatchPolicy): DnfConf {
  const { install } = policy;
  const warnings: string[] = [];
  const lines = [
    `# Written by patchloop from policy ${policy.name} version ${policy.version} (group ${policy.group}).`,
    '# patchloop rewrites this file; change the policy instead.',
    '[commands]',
    // security needs updateinfo (advisory) metadata in the repositories; without it nothing is "security"
    `upgrade_type = ${install.updates === 'security' ? 'security' : 'default'}`,
    'random_sleep = 0',
    'network_online_timeout = 60',
    'download_updates = yes',
    'apply_updates = yes',
    'reboot = never',
    '',
    '[emitters]',
    'emit_via = stdio',
    '',
    '[base]',
    'debuglevel = 1',
  ];
  if (install.blocklist.length > 0) lines.push(`excludepkgs = ${globList(install.blocklist)}`);
  if (install.allowlist.length > 0) {
    lines.push(`includepkgs = ${globList(install.allowlist)}`);
    if (!install.allowlist_strict)
      warnings.push(
        'dnf can only restrict updates to the allowlist strictly (includepkgs): dependencies outside it are not updated',
      );
  }
  if (install.config_files === 'skip_package')
    warnings.push('rpm never prompts for config files (it writes .rpmnew files): config_files has no effect with dnf');
  if (install.extra_apt_origins.length > 0) warnings.push('extra_apt_origins apply to apt only');
  return { text: `${lines.join('\n')}\n`, warnings };
}

/** dnf-automatic.timer inside the windows (runner: timer); see windowTimerDropIn. */
export function dnfTimerDropIn(policy: PatchPolicy): string | null {
  return windowTimerDropIn(policy, 'dnf-automatic');
}
