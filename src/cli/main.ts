// CLI entry point. Each command lives in its own module under ./commands and registers its
// options here; the module doing the work is imported only when that command runs, so a
// scan never loads server or export code.
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.ts';
import { EXIT } from './exit.ts';
import { PATCHLOOP_VERSION } from '../version.ts';

const program = new Command('patchloop')
  .description('Self-hosted patch management for Linux fleets: scan, report, patch, prove.')
  .version(PATCHLOOP_VERSION, '-V, --version')
  .showHelpAfterError()
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // help and version exit 0; every other commander error is a usage error.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.stderr.write(`patchloop: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.PATCHLOOP_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = (err as { exitCode?: number }).exitCode ?? EXIT.failure;
  }
}
