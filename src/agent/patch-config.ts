// The `patch:` section of agent.yaml: the host's own opt-in to patching and the widest set of
// actions it allows. The server's policy can only narrow this: a compromised server cannot
// make an agent install outside its local allowance, reboot it, restart its services or add
// package sources. narrowPolicy() applies the local limits to the policy the server sent.
import { z } from 'zod';
import { globMatch, PACKAGE_PATTERN, type PatchPolicy } from '../core/policy/index.ts';

const pattern = z.string().regex(PACKAGE_PATTERN, 'expected a package name, optionally with * wildcards');

export const AgentPatchConfigSchema = z.strictObject({
  /** Patching happens only when this is true (default: the agent reports, never patches). */
  enabled: z.boolean().default(false),
  /** Only ever dry runs: what would change is reported, nothing is installed. */
  dry_run: z.boolean().default(false),
  allow: z
    .strictObject({
      /** The widest update set a policy may select: `security` keeps a policy's `all` to security updates. */
      updates: z.enum(['security', 'all']).default('security'),
      /** May patchloop reboot this host (with a lease, in the window)? */
      reboot: z.boolean().default(false),
      /** May patchloop restart services that use replaced libraries? */
      restart_services: z.boolean().default(false),
      /** May a policy add apt origins (third-party repositories already configured here)? */
      extra_apt_origins: z.boolean().default(false),
    })
    .default({ updates: 'security', reboot: false, restart_services: false, extra_apt_origins: false }),
  /** Never changed on this host, whatever the policy says (added to its blocklist). */
  blocklist: z.array(pattern).default([]),
  /** When set, only these may be upgraded here; a policy's allowlist is cut down to them. */
  allowlist: z.array(pattern).default([]),
  /** The reboot command (run only with a lease, on the running system). */
  reboot_command: z.array(z.string().min(1)).min(1).default(['systemctl', 'reboot']),
  /** apt-get update / apk update before a run. */
  refresh_lists: z.boolean().default(true),
  /** Scan before and after with the local vulnerability DB (vulndb_sync) for the run's own cves_closed. */
  scan: z.boolean().default(false),
});
export type AgentPatchConfig = z.infer<typeof AgentPatchConfigSchema>;

/**
 * The policy as this host will apply it: the server's, narrowed by the local configuration.
 * `notes` say what was narrowed (logged, and a policy author can see why a host behaves so).
 */
export function narrowPolicy(
  policy: PatchPolicy,
  local: AgentPatchConfig,
  o: { runningSystem: boolean },
): { policy: PatchPolicy; notes: string[]; nothingAllowed: boolean } {
  const notes: string[] = [];
  const install = { ...policy.install };
  if (install.updates === 'all' && local.allow.updates === 'security') {
    install.updates = 'security';
    notes.push('the policy asks for all updates; this host allows security updates only');
  }
  const extraBlocked = local.blocklist.filter((b) => !install.blocklist.includes(b));
  if (extraBlocked.length) {
    install.blocklist = [...install.blocklist, ...extraBlocked];
    notes.push(`locally blocklisted: ${extraBlocked.join(', ')}`);
  }
  if (local.allowlist.length > 0) {
    const before = install.allowlist;
    install.allowlist =
      before.length === 0
        ? [...local.allowlist]
        : before.filter((name) => local.allowlist.some((g) => globMatch(g, name)));
    // "only these" here means only these: not what they would pull in
    install.allowlist_strict = true;
    notes.push(`limited to this host's allowlist: ${install.allowlist.join(', ') || '(nothing)'}`);
    // an allowlist narrowed to nothing must not turn into "everything"
    if (install.allowlist.length === 0) return { policy, notes, nothingAllowed: true };
  }
  if (install.extra_apt_origins.length > 0 && !local.allow.extra_apt_origins) {
    install.extra_apt_origins = [];
    notes.push('extra apt origins from the policy ignored (allow.extra_apt_origins is false)');
  }
  const reboot = { ...policy.reboot };
  if (reboot.mode !== 'never' && (!local.allow.reboot || !o.runningSystem)) {
    reboot.mode = 'never';
    notes.push(
      o.runningSystem
        ? 'reboots not allowed on this host (allow.reboot is false): reported only'
        : 'the patched root is not the running system: no reboots',
    );
  }
  const restart = { ...policy.restart };
  if (restart.services === 'restart' && (!local.allow.restart_services || !o.runningSystem)) {
    restart.services = 'report';
    notes.push('service restarts not allowed on this host: reported only');
  }
  return { policy: { ...policy, install, reboot, restart }, notes, nothingAllowed: false };
}
