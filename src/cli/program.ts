// The command tree: the program with every command and option registered, nothing parsed.
// main.ts runs it; the packaging generates the man page and the shell completions from it.
import { Command } from 'commander';
import { registerCommands } from './commands/index.ts';
import { PATCHLOOP_VERSION } from '../version.ts';

export function createProgram(): Command {
  const program = new Command('patchloop')
    .description('Self-hosted patch management for Linux fleets: scan, report, patch, prove.')
    .version(PATCHLOOP_VERSION, '-V, --version')
    .exitOverride();
  registerCommands(program);
  hintAfterErrors(program);
  return program;
}

/**
 * A usage error is one line and where to read more (`see 'patchloop scan --help'`), not the
 * whole help text: every command names its own help.
 */
function hintAfterErrors(command: Command): void {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  command.showHelpAfterError(`see '${names.join(' ')} --help'`);
  for (const sub of command.commands) hintAfterErrors(sub);
}
