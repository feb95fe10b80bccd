import type { Command } from 'commander';
import { CliError } from '../exit.ts';

export function register(program: Command): void {
  program
    .command('scan')
    .description('(not yet implemented)')
    .action(() => {
      throw new CliError('scan: not yet implemented');
    });
}
