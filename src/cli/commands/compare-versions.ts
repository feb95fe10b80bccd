import type { Command } from 'commander';
import { CliError } from '../exit.ts';

export function register(program: Command): void {
  program
    .command('compare-versions')
    .description('(not yet implemented)')
    .action(() => {
      throw new CliError('compare-versions: not yet implemented');
    });
}
