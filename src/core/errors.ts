// The error base of patchloop: every error the product raises on purpose carries a stable
// code (`PL_E_...`). The command line maps codes to exit statuses (cli/exit.ts), the API to
// HTTP statuses (server/http/errors.ts); nothing decides by class name or message. Codes are
// a contract (docs/errors.md): add new ones, never rename or reuse one.

/** Every code, with what it means. */
export const ERROR_CODES = {
  PL_E_INTERNAL: 'an unexpected failure (a bug): the message and, with PATCHLOOP_DEBUG=1, the stack say where',
  PL_E_FAILED: 'the operation was done and failed (e.g. feeds that could not be updated, reports the server rejected)',
  PL_E_USAGE: 'a command-line flag or argument is wrong',
  PL_E_CONFIG: 'a configuration file or setting is wrong (the message names the file, line and key)',
  PL_E_SERVER_ADDRESS: "the server's URL is wrong (not http(s), the API path, the wrong scheme, no patchloop server there)",
  PL_E_SERVER_UNREACHABLE: 'the server could not be reached, did not answer in time, or answered that it cannot now (5xx, 429): worth retrying later',
  PL_E_TLS: "the TLS handshake failed or the peer's certificate is not trusted (a CA file is missing or wrong)",
  PL_E_NOT_ENROLLED: 'the agent has no usable credential (not enrolled, or the credential file is unreadable)',
  PL_E_CREDENTIAL_REFUSED: "the server refused the host's credential (revoked, host removed): enrol again",
  PL_E_ENROLMENT_REFUSED: 'the enrolment token was refused (unknown, expired, used up or revoked)',
  PL_E_PROTOCOL: 'the other side answered something the protocol does not allow',
  PL_E_CANNOT_SCAN: 'the host cannot be scanned (unreadable package or vulnerability database, no data for its distribution)',
  PL_E_CANNOT_PATCH: 'this system cannot be patched here (not root, package manager failed to start)',
  PL_E_UNSUPPORTED_DISTRO: 'the distribution or release is not supported',
  PL_E_INVENTORY: 'a package database or os-release file cannot be read',
  PL_E_INVALID_VERSION: 'a version string is not valid in its scheme (deb, rpm, apk)',
  PL_E_FEED_INPUT: 'a feed input (file, archive, document) is malformed or of an unknown kind',
  PL_E_DOWNLOAD: 'a download failed (HTTP status, network, truncated or undecodable body)',
  PL_E_FEED_UPDATE: 'a feed update failed; the previous vulnerability database was kept',
  PL_E_DB_CORRUPT: 'the vulnerability database cannot be read (damaged, or not a patchloop database)',
  PL_E_STORE: 'the server store cannot be opened (unreadable, not a patchloop store, another schema)',
  PL_E_LOCKED: 'another process holds the lock (a feed update, a server on the same data directory)',
  PL_E_STORAGE_FULL: 'the disk is full: nothing was written; the same write succeeds once space is freed',
  PL_E_SERVER_START: 'the server cannot start (address in use, TLS files unreadable or not a pair)',
  PL_E_POLICY: 'a patch policy does not validate',
  PL_E_PATCH_LOG: "a package manager's log or output is not in the expected format",
  PL_E_CLUSTER: 'an Elasticsearch/OpenSearch request failed (unreachable, refused, or an error answer)',
  PL_E_DASHBOARDS_IMPORT: 'importing saved objects into Kibana / OpenSearch Dashboards failed',
  PL_E_EXPORT_BUSY: 'another exporter is running on this store',
  PL_E_BAD_REQUEST: 'API: the request is malformed or invalid',
  PL_E_REPORT_INVALID: 'API: an agent report was rejected; nothing of it was stored',
  PL_E_UNAUTHORIZED: 'API: no valid credentials',
  PL_E_FORBIDDEN: 'API: not allowed with these credentials',
  PL_E_NOT_FOUND: 'API: no such object',
  PL_E_CONFLICT: 'API: the change conflicts with the current state',
  PL_E_TOO_MANY_REQUESTS: 'API: too many attempts; wait before trying again',
  PL_E_BUSY: 'API: the server is busy with the same work; try again later',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error patchloop raises on purpose, with its stable code. */
export class PatchloopError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** SQLite's primary result code for "database or disk is full" (extended codes share the low byte). */
const SQLITE_FULL = 13;

/**
 * A write that failed for want of space: SQLITE_FULL from a database, ENOSPC or EDQUOT from the
 * file system (also as the cause of another error). SQLite rolls such a transaction back and
 * the database stays readable; the same write succeeds once space is back.
 */
export function isStorageFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { errcode, code } = e as { errcode?: unknown; code?: unknown };
    if (typeof errcode === 'number' && (errcode & 0xff) === SQLITE_FULL) return true;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

/** The code of any error: its own, PL_E_STORAGE_FULL for a full disk, else PL_E_INTERNAL. */
export function errorCode(err: unknown): ErrorCode {
  if (err instanceof PatchloopError) return err.code;
  return isStorageFull(err) ? 'PL_E_STORAGE_FULL' : 'PL_E_INTERNAL';
}
