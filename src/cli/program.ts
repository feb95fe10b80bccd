// The command tree: the program with every command and option registered, nothing parsed.
// main.ts runs it; the packaging generates the man page and the shell completions from it.
import { Command } from 'commander';
import { registerCommands } from './commands/index.ts';
import { PATCHLOOP_VERSION } from '../version.ts';

export function createProgram(): Command {
  const program = new Command('patchloop')
    .description('Self-hosted patch management for Linux fleets: scan, report, patch, prove.')
    .version(PATCHLOOP_VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}
