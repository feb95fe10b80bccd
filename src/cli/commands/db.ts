import type { Command } from 'commander';
import { CliError } from '../exit.ts';

export function register(program: Command): void {
  program
    .command('db')
    .description('(not yet implemented)')
    .action(() => {
      throw new CliError('db: not yet implemented');
    });
}
