// A policy as typed in the dashboard's editor (YAML text), checked and previewed before it is
// saved: every problem at its line (the YAML reading and zod schema the configuration and the
// command line use), and for every host of the group "what will happen tonight" under the draft
// beside what the policy in force would do. Nothing is stored.
import { checkPolicyText } from '../../config/policy-text.ts';
import type { TextIssue } from '../../config/yaml-lines.ts';
import { hostOutlook, type HostOutlook, type PatchPolicy } from '../../core/policy/index.ts';
import type { Store } from '../store/store.ts';
import { latestPolicy, policyForGroup } from './policies.ts';
import { groupHosts, groupRings } from './rings.ts';

/** Hosts listed in a preview; the count says how many the group has. */
const MAX_HOSTS = 500;

export interface HostPreview {
  host_id: number;
  hostname: string;
  draft: Pick<HostOutlook, 'ring' | 'window' | 'gate' | 'will_patch' | 'patch_at' | 'reboot' | 'lines'>;
  /** What the policy now in force for the group would do; null when none governs it. */
  in_force: Pick<HostOutlook, 'will_patch' | 'patch_at' | 'ring'> | null;
}

export interface PolicyPreview {
  valid: boolean;
  issues: TextIssue[];
  /** The draft as it would be stored (defaults filled in), when valid. */
  policy: PatchPolicy | null;
  /** The version the draft would become. */
  next_version: number;
  hosts_total: number;
  hosts: HostPreview[];
}

/**
 * Checks `text` as the next version of policy `name` (the text may leave out name and version,
 * as a PUT may) and previews it for the hosts of its group.
 */
export function previewPolicyText(store: Store, name: string, text: string): PolicyPreview {
  const latest = latestPolicy(store, name);
  const nextVersion = (latest?.version ?? 0) + 1;
  const checked = checkPolicyText(text, name, nextVersion);
  if (!checked.ok)
    return { valid: false, issues: checked.issues, policy: null, next_version: nextVersion, hosts_total: 0, hosts: [] };
  const policy = checked.data;
  const issues: TextIssue[] = [];
  const other = policyForGroup(store, policy.group);
  if (other && other.name !== name) {
    issues.push({
      line: checked.lineOf(['group']),
      path: 'group',
      message: `group "${policy.group}" is already governed by policy ${other.name}; a group has one policy`,
    });
  }
  const now = store.clock.now();
  const hosts = groupHosts(store, policy.group);
  const draftRings = groupRings(store, policy, now);
  const inForce = other ?? (latest && latest.group === policy.group ? latest : null);
  const forceRings = inForce ? groupRings(store, inForce.policy, now) : null;
  return {
    valid: issues.length === 0,
    issues,
    policy,
    next_version: nextVersion,
    hosts_total: hosts.length,
    hosts: hosts.slice(0, MAX_HOSTS).map((h) => {
      const d = hostOutlook(policy, h, draftRings.histories, now);
      const f = inForce && forceRings ? hostOutlook(inForce.policy, h, forceRings.histories, now) : null;
      return {
        host_id: h.id,
        hostname: h.hostname,
        draft: {
          ring: d.ring,
          window: d.window,
          gate: d.gate,
          will_patch: d.will_patch,
          patch_at: d.patch_at,
          reboot: d.reboot,
          lines: d.lines,
        },
        in_force: f && { will_patch: f.will_patch, patch_at: f.patch_at, ring: f.ring },
      };
    }),
  };
}
