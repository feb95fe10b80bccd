// CLI entry point. Each command lives in its own module under ./commands and registers its
// options here; the module doing the work is imported only when that command runs, so a
// scan never loads server or export code.
// No top-level await: the single executable runs this entry as CommonJS (scripts/package).
import { Command, CommanderError } from 'commander';
import { createProgram } from './program.ts';
import { EXIT, exitFor } from './exit.ts';

const program = createProgram();

/** The command that runs, e.g. "scan" or "server run": exit codes depend on it. */
let running = '';
program.hook('preAction', (_program, action) => {
  const names: string[] = [];
  for (let c: Command | null = action; c && c !== program; c = c.parent) names.unshift(c.name());
  running = names.join(' ');
});

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // help and version exit 0; every other commander error is a usage error.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    const { code, message } = exitFor(err, running);
    process.stderr.write(`patchloop: ${message}\n`);
    if (process.env.PATCHLOOP_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    // A failed command ends now: whatever it started (a worker, a timer, a socket) must not
    // keep the process alive after the error is reported. stderr is written synchronously.
    process.exit(code);
  }
});
