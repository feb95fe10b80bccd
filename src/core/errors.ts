// The error base of patchloop: every error the product raises on purpose carries a stable
// code (`PL_E_...`). The command line maps codes to exit statuses (cli/exit.ts), the API to
// HTTP statuses (server/http/errors.ts); nothing decides by class name or message. Codes are
// a contract (docs/errors.md): add new ones, never rename or reuse one.

/** Every code; docs/errors.md says what each means and which exit and HTTP status it gives. */
export const ERROR_CODES = [
  'PL_E_INTERNAL',
  'PL_E_FAILED',
  'PL_E_USAGE',
  'PL_E_CONFIG',
  'PL_E_SERVER_ADDRESS',
  'PL_E_SERVER_UNREACHABLE',
  'PL_E_TLS',
  'PL_E_NOT_ENROLLED',
  'PL_E_CREDENTIAL_REFUSED',
  'PL_E_ENROLMENT_REFUSED',
  'PL_E_PROTOCOL',
  'PL_E_CANNOT_SCAN',
  'PL_E_CANNOT_PATCH',
  'PL_E_UNSUPPORTED_DISTRO',
  'PL_E_INVENTORY',
  'PL_E_INVALID_VERSION',
  'PL_E_FEED_INPUT',
  'PL_E_DOWNLOAD',
  'PL_E_FEED_UPDATE',
  'PL_E_DB_CORRUPT',
  'PL_E_STORE',
  'PL_E_LOCKED',
  'PL_E_STORAGE_FULL',
  'PL_E_SERVER_START',
  'PL_E_POLICY',
  'PL_E_PATCH_LOG',
  'PL_E_CLUSTER',
  'PL_E_DASHBOARDS_IMPORT',
  'PL_E_EXPORT_BUSY',
  'PL_E_BAD_REQUEST',
  'PL_E_REPORT_INVALID',
  'PL_E_UNAUTHORIZED',
  'PL_E_FORBIDDEN',
  'PL_E_NOT_FOUND',
  'PL_E_CONFLICT',
  'PL_E_TOO_MANY_REQUESTS',
  'PL_E_BUSY',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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
