// The apt.conf.d snippet patchloop writes from a policy (/etc/apt/apt.conf.d/51patchloop, read
// after the distribution's 50unattended-upgrades), and the systemd drop-in that moves
// apt-daily-upgrade.timer into the maintenance windows when the policy leaves the running to
// the timer. Pure text generation; the runner writes the files.
import { PACKAGE_PATTERN, type AptOrigin, type PatchPolicy } from '../../core/policy/schema.ts';
import { PATCHLOOP_APT_ORIGIN } from '../../core/policy/self-update.ts';
import { windowTimerDropIn } from '../systemd-timer.ts';

export const APT_CONF_PATH = 'etc/apt/apt.conf.d/51patchloop';
export const TIMER_DROPIN_PATH = 'etc/systemd/system/apt-daily-upgrade.timer.d/51patchloop.conf';

/**
 * A package-name pattern as an unattended-upgrades blacklist/whitelist entry. u-u matches
 * entries as Python regexes anchored at the start of the name (`re.match`), so `libc6` alone
 * would also hold back `libc6-dev`: the `$` anchors the end, `.` and `+` (common in names:
 * `libstdc++6`, `perl-modules-5.36`) are escaped, and `*` becomes `.*`.
 */
export function namePatternRegex(pattern: string): string {
  if (!PACKAGE_PATTERN.test(pattern)) throw new Error(`not a package name pattern: ${JSON.stringify(pattern)}`);
  return `${pattern.replace(/[.+]/g, '\\$&').replace(/\*/g, '.*')}$`;
}

/** One Origins-Pattern entry; commas inside a value are escaped the way u-u reads them (`\,`). */
export function originPattern(o: AptOrigin): string {
  const keys: (keyof AptOrigin)[] = ['origin', 'label', 'codename', 'archive', 'component', 'site'];
  const parts = keys.filter((k) => o[k] !== undefined).map((k) => `${k}=${(o[k] as string).replace(/,/g, '\\,')}`);
  if (parts.length === 0) throw new Error('an origin needs at least one keyword');
  return parts.join(',');
}

/**
 * The distribution's own origins for the policy's update class. Codenames, not suites: a
 * suite-based pattern (`a=stable-security`) stops matching when the release becomes oldstable.
 * Debian security-only leaves out the release itself, whose point releases are not security
 * fixes; Ubuntu's release pocket never changes after release but may carry new dependencies of
 * security updates, so it stays in (as in Ubuntu's own default).
 */
export function distroOrigins(distro: string, codename: string, updates: 'security' | 'all'): AptOrigin[] {
  if (!/^[a-z0-9][a-z0-9.+-]*$/.test(codename))
    throw new Error(
      `cannot build apt origins: invalid or missing codename ${JSON.stringify(codename)} (VERSION_CODENAME in os-release)`,
    );
  switch (distro) {
    case 'debian': {
      const security: AptOrigin[] = [
        { origin: 'Debian', codename: `${codename}-security`, label: 'Debian-Security' },
        { origin: 'Debian', codename, label: 'Debian-Security' },
      ];
      if (updates === 'security') return security;
      return [
        { origin: 'Debian', codename, label: 'Debian' },
        { origin: 'Debian', codename: `${codename}-updates`, label: 'Debian' },
        ...security,
      ];
    }
    case 'ubuntu': {
      const security: AptOrigin[] = [
        { origin: 'Ubuntu', codename },
        { origin: 'Ubuntu', codename: `${codename}-security` },
        { origin: 'UbuntuESMApps', codename: `${codename}-apps-security` },
        { origin: 'UbuntuESM', codename: `${codename}-infra-security` },
      ];
      if (updates === 'security') return security;
      return [
        ...security,
        { origin: 'Ubuntu', codename: `${codename}-updates` },
        { origin: 'UbuntuESMApps', codename: `${codename}-apps-updates` },
        { origin: 'UbuntuESM', codename: `${codename}-infra-updates` },
      ];
    }
    default:
      return [];
  }
}

function quote(s: string): string {
  // apt.conf has no escape for a quote or a line break inside a value
  if (/["\n\r]/.test(s))
    throw new Error(`cannot write ${JSON.stringify(s)} into apt.conf (quotes and line breaks are not representable)`);
  return `"${s}"`;
}

function listItem(key: string, values: readonly string[]): string[] {
  return [
    `#clear ${key};`,
    values.length === 0 ? `${key} { };` : `${key} {\n${values.map((v) => `  ${quote(v)};`).join('\n')}\n};`,
  ];
}

export interface AptConfInput {
  policy: PatchPolicy;
  os: { id: string; codename: string; id_like?: readonly string[] };
}

/**
 * The apt.conf.d snippet. Lists patchloop owns are cleared first (`#clear`), since apt appends
 * list entries from every file; scalars simply override the earlier files.
 */
export function aptConfSnippet({ policy, os }: AptConfInput): string {
  const { install, schedule } = policy;
  const family =
    os.id === 'debian' || os.id === 'ubuntu' ? os.id : (os.id_like ?? []).find((x) => x === 'ubuntu' || x === 'debian');
  const distro = family ? distroOrigins(family, os.codename, install.updates) : [];
  if (distro.length === 0 && install.extra_apt_origins.length === 0) {
    throw new Error(
      `no apt origins for ${os.id || 'this distribution'}: patchloop knows Debian and Ubuntu; list the repositories in install.extra_apt_origins`,
    );
  }
  // patchloop's own repository (the server's /repo/apt) always counts, whatever the update
  // class: the agent is updated like any other package (blocklist patchloop to hold it).
  const origins = [...distro, PATCHLOOP_APT_ORIGIN, ...install.extra_apt_origins];
  const timer = schedule.runner === 'timer';
  const lines = [
    `// Written by patchloop from policy ${policy.name} version ${policy.version} (group ${policy.group}).`,
    '// patchloop rewrites this file on every run; change the policy instead.',
    ...listItem('Unattended-Upgrade::Allowed-Origins', []),
    ...listItem('Unattended-Upgrade::Origins-Pattern', origins.map(originPattern)),
    ...listItem('Unattended-Upgrade::Package-Blacklist', install.blocklist.map(namePatternRegex)),
    ...listItem('Unattended-Upgrade::Package-Whitelist', install.allowlist.map(namePatternRegex)),
    `Unattended-Upgrade::Package-Whitelist-Strict ${quote(String(install.allowlist_strict))};`,
    "// Reboots are patchloop's (window + lease from the server), never unattended-upgrades' own.",
    'Unattended-Upgrade::Automatic-Reboot "false";',
    `Unattended-Upgrade::Remove-Unused-Kernel-Packages ${quote(String(install.remove_unused_kernels))};`,
    'Unattended-Upgrade::Remove-New-Unused-Dependencies "true";',
    'Unattended-Upgrade::MinimalSteps "true";',
  ];
  if (install.config_files === 'keep_local') {
    lines.push(
      '// Upgrade packages whose config file was changed locally, keeping the local file.',
      'Dpkg::Options {\n  "--force-confdef";\n  "--force-confold";\n};',
    );
  } else {
    lines.push('// No dpkg conffile options: unattended-upgrades skips packages with a changed config file.');
  }
  lines.push(
    timer
      ? "// The distribution's timer runs unattended-upgrades (inside the windows: see the timer drop-in)."
      : '// patchloop runs unattended-upgrades itself inside the windows; the daily timer must not.',
    `APT::Periodic::Unattended-Upgrade ${quote(timer ? '1' : '0')};`,
    'APT::Periodic::Update-Package-Lists "1";',
  );
  return `${lines.join('\n')}\n`;
}

/** systemd drop-in for apt-daily-upgrade.timer (runner: timer); see windowTimerDropIn. */
export function timerDropIn(policy: PatchPolicy): string | null {
  return windowTimerDropIn(policy, 'unattended-upgrades');
}
