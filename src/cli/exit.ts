// Exit codes shared by every command (DESIGN.md contracts), and the one place that decides
// which code an error ends a command with: by the error's stable code (core/errors.ts).
import { errorCode, type ErrorCode } from '../core/errors.ts';

export const EXIT = {
  ok: 0,
  /** scan: --fail-on was given and met. Other commands: the operation failed. */
  failure: 1,
  usage: 2,
  /** scan: the host cannot be scanned (unknown distribution, unreadable database, no vuln DB). patch: cannot patch. */
  cannotScan: 3,
  /** agent: the server was unreachable, the report stays spooled (sysexits EX_TEMPFAIL). */
  tempfail: 75,
} as const;

/** Codes that end a command with another status than 1 (the operation failed). */
const EXIT_OF: Partial<Record<ErrorCode, number>> = {
  // Something the user gave is wrong: a flag, a configuration file, an address, a policy.
  PL_E_USAGE: EXIT.usage,
  PL_E_CONFIG: EXIT.usage,
  PL_E_SERVER_ADDRESS: EXIT.usage,
  PL_E_POLICY: EXIT.usage,
  PL_E_CANNOT_SCAN: EXIT.cannotScan,
  PL_E_CANNOT_PATCH: EXIT.cannotScan,
  PL_E_SERVER_UNREACHABLE: EXIT.tempfail,
};

/**
 * The exit code and message an error ends `command` (e.g. "scan", "agent run") with.
 * scan keeps 1 for "--fail-on met": any error that stops it from producing a report (an
 * unreadable package or vulnerability database, a report that cannot be written) is 3, so a
 * pipeline never reads a broken scan as "vulnerabilities found". Elsewhere an error is a
 * failure of the operation (1) unless its code says otherwise.
 */
export function exitFor(err: unknown, command: string): { code: number; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  const code = EXIT_OF[errorCode(err)] ?? EXIT.failure;
  if (code === EXIT.usage) return { code, message };
  if (command === 'scan') return { code: EXIT.cannotScan, message: `cannot scan: ${message}` };
  if (code === EXIT.tempfail) return { code, message: `server unreachable: ${message}` };
  return { code, message };
}
