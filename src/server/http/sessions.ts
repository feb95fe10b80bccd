// A person's browser session: made after a password or single sign-on login, carried in an
// HttpOnly cookie; changes need the session's CSRF token in a header (access.ts).
import type { FastifyReply } from 'fastify';
import type { ServerContext } from '../context.ts';
import { createSession, type SessionVia } from '../store/credentials.ts';
import { noteLogin, type User } from '../store/users.ts';
import { SESSION_COOKIE } from './auth.ts';

export interface SessionInfo {
  username: string;
  role: User['role'];
  user_id: number;
  kind: string;
  via: SessionVia | 'token';
  csrf_token: string;
  expires_at?: string;
}

/** Starts a session for `user` and sets its cookie; returns what the login answers. */
export function startSession(ctx: ServerContext, reply: FastifyReply, user: User, via: SessionVia): SessionInfo {
  const s = createSession(ctx.store, user.id, via, ctx.config.session_ttl);
  noteLogin(ctx.store, user.id);
  reply.setCookie(SESSION_COOKIE, s.token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: ctx.config.tls !== undefined,
    path: '/',
    maxAge: Math.floor(ctx.config.session_ttl / 1000),
  });
  return {
    username: user.username,
    role: user.role,
    user_id: user.id,
    kind: user.kind,
    via,
    csrf_token: s.csrf,
    expires_at: new Date(s.expires_at).toISOString(),
  };
}
