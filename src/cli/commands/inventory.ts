// `patchloop inventory`: the installed packages, OS release and kernel of this host or of a
// root filesystem. The readers are imported only when the command runs.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { kernelReleaseProblem } from '../../inventory/kernel.ts';
import { PatchloopError } from '../../core/errors.ts';
import { EXIT } from '../exit.ts';

interface InventoryOptions {
  root: string;
  kernel?: string;
  format: 'json' | 'table';
}

export function register(program: Command): void {
  program
    .command('inventory')
    .description('List the installed packages, OS release and running kernel of this host or of a root filesystem')
    .option('--root <dir>', 'root filesystem to read (an image, a chroot, a mounted disk)', '/')
    .option(
      '--kernel <release>',
      'kernel release to report (default: the running one when --root is /, else null)',
      parseKernel,
    )
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'table']).default('json'))
    .addHelpText(
      'after',
      `
JSON: {"os":{"id","version_id","codename","pretty_name","id_like"},"kernel":"…"|null,
       "packages":[{"name","version","arch","source","source_version","format"}],"warnings":[…]}
Warnings (corrupt records, several databases, mixed Alpine branches…) name the file and line;
they are printed on stderr and, in JSON, also listed in "warnings".
Exit status: 0 when the inventory was read; 1 when it could not be (no or unreadable
package database); 2 for a usage error.
`,
    )
    .action(async (opts: InventoryOptions) => {
      const { readInventory, InventoryError } = await import('../../inventory/index.ts');
      const { inventoryJson, inventoryTable } = await import('../../inventory/output.ts');
      let inventory;
      try {
        inventory = await readInventory(opts.root, { kernel: opts.kernel });
      } catch (err) {
        if (err instanceof InventoryError) throw new PatchloopError('PL_E_FAILED', `inventory: ${err.message}`);
        throw err;
      }
      for (const w of inventory.warnings ?? []) process.stderr.write(`patchloop: warning: ${w}\n`);
      // A reader that stops early (`| head`) is not an error.
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(EXIT.ok);
        throw err;
      });
      process.stdout.write(
        opts.format === 'json' ? `${JSON.stringify(inventoryJson(inventory), null, 2)}\n` : inventoryTable(inventory),
      );
    });
}

function parseKernel(value: string): string {
  const problem = kernelReleaseProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}
