import type { Command } from 'commander';
import { CliError } from '../exit.ts';

export function register(program: Command): void {
  program
    .command('inventory')
    .description('(not yet implemented)')
    .action(() => {
      throw new CliError('inventory: not yet implemented');
    });
}
