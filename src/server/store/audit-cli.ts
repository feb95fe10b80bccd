// Account changes made on the command line (`patchloop server user …`) go into the audit log
// like those made through the API: actor kind `cli`, named after the system user who ran it.
import { userInfo } from 'node:os';
import { PatchloopError } from '../../core/errors.ts';
import { recordAudit, type AuditActor } from './audit.ts';
import type { Store } from './store.ts';
import { auditedUser, userByName, type User } from './users.ts';

export interface CliAudit {
  actor: AuditActor;
  /**
   * Runs a change of the account `username` (its id given to `fn`; for user.create there is
   * none yet, 0) and writes the audit entry with the account before and after, or the failure.
   */
  change(action: string, username: string, fn: (id: number) => Promise<User | null>): Promise<User>;
}

function systemUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}

export function cliAudit(store: Store): CliAudit {
  const actor: AuditActor = { kind: 'cli', name: systemUser() };
  return {
    actor,
    async change(action, username, fn) {
      const before = action === 'user.create' ? null : userByName(store, username);
      const target = { type: 'user', id: before?.username ?? username };
      try {
        if (action !== 'user.create' && !before) throw new PatchloopError('PL_E_USAGE', `no account named ${username}`);
        const after = await fn(before?.id ?? 0);
        if (!after) throw new PatchloopError('PL_E_USAGE', `no account named ${username}`);
        recordAudit(store, {
          actor,
          action,
          target,
          outcome: 'success',
          before: auditedUser(before),
          after: auditedUser(after),
        });
        return after;
      } catch (err) {
        recordAudit(store, {
          actor,
          action,
          target,
          outcome: 'failure',
          reason: (err as Error).message,
          before: auditedUser(before),
        });
        throw err;
      }
    },
  };
}
