// Exit codes shared by every command (DESIGN.md contracts).
export const EXIT = {
  ok: 0,
  /** scan: --fail-on was given and met. Other commands: the operation failed. */
  failure: 1,
  usage: 2,
  /** scan: the host cannot be scanned (unknown distribution, unreadable database, no vuln DB). */
  cannotScan: 3,
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
