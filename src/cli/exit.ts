// Exit codes shared by every command (DESIGN.md contracts), and the one place that decides
// which code an error ends a command with: a command that knows the code throws
// CliError(message, EXIT.x); any other error reaches main.ts, which asks exitFor().
export const EXIT = {
  ok: 0,
  /** scan: --fail-on was given and met. Other commands: the operation failed. */
  failure: 1,
  usage: 2,
  /** scan: the host cannot be scanned (unknown distribution, unreadable database, no vuln DB). */
  cannotScan: 3,
  /** agent: the server was unreachable, the report stays spooled (sysexits EX_TEMPFAIL). */
  tempfail: 75,
} as const;

/** An error that carries the process exit code it should end with. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

// Errors of the modules the commands run, by class name: the commands load those modules
// lazily, and this file must not load them all to recognise their errors.
/** A configuration file, flag or address the user gave is wrong. */
const USAGE_ERRORS = new Set(['ConfigError', 'AgentConfigError', 'ServerAddressError']);

/**
 * The exit code and message an error ends `command` (e.g. "scan", "agent run") with.
 * scan keeps 1 for "--fail-on met": any error that stops it from producing a report (an
 * unreadable package or vulnerability database, a report that cannot be written) is 3, so a
 * pipeline never reads a broken scan as "vulnerabilities found". Elsewhere an error is a
 * failure of the operation (1).
 */
export function exitFor(err: unknown, command: string): { code: number; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof CliError) return { code: err.exitCode, message };
  const name = err instanceof Error ? err.name : '';
  if (USAGE_ERRORS.has(name)) return { code: EXIT.usage, message };
  if (command === 'scan') return { code: EXIT.cannotScan, message: `cannot scan: ${message}` };
  if (name === 'TransientError') return { code: EXIT.tempfail, message: `server unreachable: ${message}` };
  return { code: EXIT.failure, message };
}
