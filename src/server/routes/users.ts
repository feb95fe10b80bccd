// Account management (admin): list, create local accounts, change a role or display name,
// disable and enable, reset a password. Accounts are never deleted (the audit log names them).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PasswordResetSchema, UserCreateSchema, UserPatchSchema, UserSchema } from '../api/people-schemas.ts';
import { ErrorSchema, IdParams } from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';
import { auditChange } from '../http/audit.ts';
import { person } from '../http/auth.ts';
import { HttpError } from '../http/errors.ts';
import {
  auditedUser,
  createLocalUser,
  listUsers,
  setUserDisabled,
  setUserPassword,
  updateUser,
  userById,
  type User,
} from '../store/users.ts';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** An account as the API shows it. */
export function userView(u: User): z.infer<typeof UserSchema> {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    kind: u.kind,
    display_name: u.display_name,
    sso_issuer: u.sso_issuer,
    disabled: u.disabled_at !== null,
    created_at: iso(u.created_at)!,
    created_by: u.created_by,
    updated_at: iso(u.updated_at)!,
    last_login_at: iso(u.last_login_at),
  };
}

export const userRoutes =
  (ctx: ServerContext): FastifyPluginAsyncZod =>
  async (app) => {
    const { store } = ctx;
    const existing = (id: number): User => {
      const u = userById(store, id);
      if (!u) throw new HttpError('PL_E_NOT_FOUND', `no account ${id}`);
      return u;
    };

    app.get(
      '/api/v1/users',
      {
        config: { access: 'admin' },
        schema: {
          summary: 'Accounts: built-in, local and single sign-on',
          tags: ['users'],
          response: { 200: z.array(UserSchema) },
        },
      },
      async () => listUsers(store).map(userView),
    );

    app.post(
      '/api/v1/users',
      {
        config: { access: 'admin', audit: 'user.create' },
        schema: {
          summary: 'Create a local account with a role and a first password',
          tags: ['users'],
          body: UserCreateSchema,
          response: { 201: UserSchema, 400: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request, reply) => {
        auditChange(request, { target: { type: 'user', id: request.body.username } });
        const u = await createLocalUser(store, request.body, person(request.principal).username);
        auditChange(request, { after: auditedUser(u) });
        return reply.code(201).send(userView(u));
      },
    );

    app.patch(
      '/api/v1/users/:id',
      {
        config: { access: 'admin', audit: 'user.update' },
        schema: {
          summary:
            "Change an account: role, display name, disabled (a disabled account's sessions end and its API tokens stop)",
          description: "The role of a single sign-on account is set again from the provider's claim at its next login.",
          tags: ['users'],
          params: IdParams,
          body: UserPatchSchema,
          response: { 200: UserSchema, 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request) => {
        const before = existing(request.params.id);
        auditChange(request, { target: { type: 'user', id: before.username }, before: auditedUser(before) });
        const p = person(request.principal);
        if (
          before.id === p.userId &&
          (request.body.disabled === true || (request.body.role !== undefined && request.body.role !== 'admin'))
        ) {
          throw new HttpError(
            'PL_E_CONFLICT',
            'an administrator cannot disable or demote their own account (another admin can)',
          );
        }
        const { disabled, ...change } = request.body;
        store.tx(() => {
          if (change.role !== undefined || change.display_name !== undefined) updateUser(store, before.id, change);
          if (disabled !== undefined) setUserDisabled(store, before.id, disabled);
        });
        const after = existing(before.id);
        auditChange(request, { after: auditedUser(after) });
        return userView(after);
      },
    );

    app.post(
      '/api/v1/users/:id/password',
      {
        config: { access: 'admin', audit: 'user.password_reset' },
        schema: {
          summary: "Set a local account's password (the account's sessions end)",
          tags: ['users'],
          params: IdParams,
          body: PasswordResetSchema,
          response: { 204: z.null(), 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (request, reply) => {
        const u = existing(request.params.id);
        auditChange(request, { target: { type: 'user', id: u.username } });
        await setUserPassword(store, u.id, request.body.password);
        return reply.code(204).send(null);
      },
    );
  };
