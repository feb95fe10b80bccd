// Policy versions in the store. A PUT of a policy document validates it with core/policy's
// parsePolicy and stores it as the next version of its name; an identical document is not a
// new version. One policy governs a group: a second name for the same group is refused.
import { isDeepStrictEqual } from 'node:util';
import { parsePolicy, PolicyError, type PatchPolicy } from '../../core/policy/schema.ts';
import { HttpError } from '../http/errors.ts';
import type { Store } from '../store/store.ts';

export interface StoredPolicy {
  name: string;
  version: number;
  group: string;
  created_at: string;
  created_by: string;
  policy: PatchPolicy;
}

interface PolicyRow {
  name: string;
  version: number;
  grp: string;
  doc: string;
  created_at: number;
  created_by: string;
}

function toStored(r: PolicyRow): StoredPolicy {
  return {
    name: r.name,
    version: r.version,
    group: r.grp,
    created_at: new Date(r.created_at).toISOString(),
    created_by: r.created_by,
    policy: JSON.parse(r.doc) as PatchPolicy,
  };
}

const LATEST = 'SELECT * FROM policies p WHERE version = (SELECT max(version) FROM policies q WHERE q.name = p.name)';

export function latestPolicy(store: Store, name: string): StoredPolicy | null {
  const r = store.get<PolicyRow>('SELECT * FROM policies WHERE name = ? ORDER BY version DESC LIMIT 1', name);
  return r ? toStored(r) : null;
}

export function policyVersion(store: Store, name: string, version: number): StoredPolicy | null {
  const r = store.get<PolicyRow>('SELECT * FROM policies WHERE name = ? AND version = ?', name, version);
  return r ? toStored(r) : null;
}

export function listPolicies(store: Store): (StoredPolicy & { versions: number })[] {
  return store
    .all<PolicyRow & { versions: number }>(
      `SELECT p.*, (SELECT count(*) FROM policies c WHERE c.name = p.name) AS versions FROM (${LATEST}) p ORDER BY p.name`,
    )
    .map((r) => ({ ...toStored(r), versions: r.versions }));
}

export function policyVersions(store: Store, name: string): StoredPolicy[] {
  return store.all<PolicyRow>('SELECT * FROM policies WHERE name = ? ORDER BY version DESC', name).map(toStored);
}

/** The policy in force for a group of hosts, or null when none names it. */
export function policyForGroup(store: Store, group: string): StoredPolicy | null {
  const r = store.get<PolicyRow>(`SELECT * FROM (${LATEST}) WHERE grp = ? ORDER BY name LIMIT 1`, group);
  return r ? toStored(r) : null;
}

/**
 * Stores `body` as the next version of policy `name`. `version` in the body is optional; when
 * given it must be the next version (a guard against overwriting a change made meanwhile).
 * Throws HttpError 400 (invalid, with one detail per field), 409 (stale version, group taken).
 */
export function putPolicy(
  store: Store,
  name: string,
  body: unknown,
  who: string,
): { status: 'created' | 'unchanged'; stored: StoredPolicy } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError('PL_E_POLICY', 'the policy must be a JSON object');
  const doc = { ...(body as Record<string, unknown>) };
  if (doc.name !== undefined && doc.name !== name) {
    throw new HttpError('PL_E_POLICY', `the body names policy "${String(doc.name)}" but the URL says "${name}"`, {
      details: [{ path: 'name', message: `must be "${name}" (or left out)` }],
    });
  }
  return store.tx(() => {
    const latest = latestPolicy(store, name);
    const next = (latest?.version ?? 0) + 1;
    const given = doc.version;
    let policy: PatchPolicy;
    try {
      policy = parsePolicy({ ...doc, name, version: next }, `policy ${name}`);
    } catch (err) {
      if (err instanceof PolicyError)
        throw new HttpError(
          'PL_E_POLICY',
          `policy ${name} rejected: ${err.issues.map((i) => `${i.path || '(document)'}: ${i.message}`).join('; ')}`,
          { details: err.issues },
        );
      throw err;
    }
    if (
      latest &&
      isDeepStrictEqual({ ...latest.policy, version: 0 }, { ...policy, version: 0 }) &&
      (given === undefined || given === latest.version)
    ) {
      return { status: 'unchanged' as const, stored: latest };
    }
    if (given !== undefined && given !== next) {
      throw new HttpError(
        'PL_E_CONFLICT',
        `policy ${name} is at version ${latest?.version ?? 0}: send version ${next} (or none) for the next change`,
        { details: [{ path: 'version', message: `expected ${next}` }] },
      );
    }
    const other = policyForGroup(store, policy.group);
    if (other && other.name !== name) {
      throw new HttpError(
        'PL_E_CONFLICT',
        `group "${policy.group}" is already governed by policy ${other.name}; a group has one policy`,
        { details: [{ path: 'group', message: `taken by ${other.name}` }] },
      );
    }
    const now = store.clock.now();
    store.run(
      'INSERT INTO policies (name, version, grp, doc, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)',
      name,
      next,
      policy.group,
      JSON.stringify(policy),
      now,
      who,
    );
    return {
      status: 'created' as const,
      stored: {
        name,
        version: next,
        group: policy.group,
        created_at: new Date(now).toISOString(),
        created_by: who,
        policy,
      },
    };
  });
}

/**
 * Brings back version `version` of policy `name` as its next version (nothing is rewritten:
 * the history keeps every version). Unchanged when it equals the version in force. Null when
 * there is no such version.
 */
export function rollbackPolicy(
  store: Store,
  name: string,
  version: number,
  who: string,
): { status: 'created' | 'unchanged'; stored: StoredPolicy } | null {
  const old = policyVersion(store, name, version);
  if (!old) return null;
  const { version: _, ...doc } = old.policy;
  return putPolicy(store, name, doc, who);
}
