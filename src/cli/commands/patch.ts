// `patchloop patch`: patch this host (or a root) under a policy, with unattended-upgrades,
// dnf-automatic or apk, and report what really happened. The patch code loads only when the
// command runs.
import { Option, type Command } from 'commander';
import type { PatchPolicy } from '../../core/policy/schema.ts';
import { PatchloopError } from '../../core/errors.ts';
import { EXIT } from '../exit.ts';

interface PatchFlags {
  root: string;
  policy?: string;
  dryRun?: boolean;
  ignoreWindow?: boolean;
  refresh: boolean;
  kernel?: string;
  scan?: boolean;
  dataDir?: string;
  format: 'table' | 'json';
  output?: string;
  explain?: boolean;
  host?: string;
  tags?: string;
  at?: string;
}

export function register(program: Command): void {
  program
    .command('patch')
    .description('install updates on this host (or a root directory) as the policy says, and report what changed')
    .option('--root <dir>', 'root directory of the system to patch', '/')
    .option('--policy <file>', 'policy file (YAML or JSON); default: security updates, any time, no reboots')
    .option('--dry-run', 'show what would change, without changing anything')
    .option('--ignore-window', 'run now even outside the maintenance windows')
    .option('--no-refresh', 'do not update the package lists first')
    .option('--kernel <release>', 'running kernel release of that root (default for /: uname -r)')
    .option(
      '--scan',
      'scan before and after, to report the vulnerabilities the run closed (needs the vulnerability DB)',
    )
    .option('--data-dir <dir>', 'data directory holding the vulnerability DB, for --scan')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('-o, --output <file>', 'also write the patch-run record (JSON) to this file')
    .option('--explain', 'do not patch: show what will happen in the next 24 hours under the policy, and why')
    .option('--host <name>', 'with --explain: the host name (default: this host)')
    .option('--tags <list>', 'with --explain: the host tags, comma-separated')
    .option('--at <time>', 'with --explain: evaluate at this ISO time instead of now')
    .addHelpText(
      'after',
      `
The policy decides what is installed (security only or all updates, block- and allowlists),
when (maintenance windows in their time zones), and how reboots go; patchloop writes the
package manager's configuration from it (apt.conf.d/51patchloop, dnf-automatic.conf).
Another package manager holding the lock is waited for (schedule.lock_timeout_seconds),
never interrupted. A reboot is never done here: it needs a lease from the server.

Exit status: 0 success, nothing to do, dry run, or outside the window; 1 the run failed or
partly failed, or the lock stayed taken; 2 usage error; 3 cannot patch this system.`,
    )
    .action(async (flags: PatchFlags) => {
      const { readPolicyFile } = await import('../../patch/policy-file.ts');
      const { defaultPolicy, PolicyError } = await import('../../core/policy/schema.ts');
      let policy;
      try {
        policy = flags.policy ? await readPolicyFile(flags.policy) : defaultPolicy();
      } catch (err) {
        throw new PatchloopError(
          'PL_E_USAGE',
          err instanceof PolicyError ? err.message : `patch: ${(err as Error).message}`,
        );
      }
      if (flags.explain) {
        await explain(policy, flags);
        return;
      }
      if (process.getuid?.() !== 0 && !flags.dryRun)
        throw new PatchloopError('PL_E_CANNOT_PATCH', 'patch: must run as root (the package manager needs it)');
      const { patchHost } = await import('../../patch/run.ts');
      let scan;
      if (flags.scan) {
        const { scanHost } = await import('../../scan/scan.ts');
        const { defaultDataDir } = await import('../../vulndb/paths.ts');
        const dataDir = flags.dataDir ?? defaultDataDir();
        scan = async (root: string) => (await scanHost({ root, dataDir, kernel: flags.kernel })).findings;
      }
      let run;
      try {
        run = await patchHost({
          root: flags.root,
          policy,
          dryRun: flags.dryRun,
          ignoreWindow: flags.ignoreWindow,
          refreshLists: flags.refresh,
          kernel: flags.kernel,
          scan,
          log: (m) => process.stderr.write(`patchloop: ${m}\n`),
        });
      } catch (err) {
        throw new PatchloopError('PL_E_CANNOT_PATCH', `patch: ${(err as Error).message}`);
      }
      const json = `${JSON.stringify(run, null, 2)}\n`;
      if (flags.output) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(flags.output, json);
      }
      if (flags.format === 'json') process.stdout.write(json);
      else {
        const { renderPatchRun } = await import('../../patch/render.ts');
        process.stdout.write(renderPatchRun(run));
      }
      const lockSkip = run.outcome === 'skipped' && run.errors.some((e) => e.kind === 'lock');
      if (run.outcome === 'failed' || run.outcome === 'partial' || lockSkip) process.exitCode = EXIT.failure;
    });
}

async function explain(policy: PatchPolicy, flags: PatchFlags): Promise<void> {
  const { hostOutlook } = await import('../../core/policy/outlook.ts');
  const { hostname } = await import('node:os');
  const now = flags.at ? Date.parse(flags.at) : Date.now();
  if (Number.isNaN(now)) throw new PatchloopError('PL_E_USAGE', `patch: --at: not an ISO time: ${flags.at}`);
  const host = {
    hostname: flags.host ?? hostname(),
    tags: flags.tags
      ? flags.tags
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : [],
  };
  // Run histories of the other rings live on the server; locally none are known.
  const outlook = hostOutlook(
    policy,
    host,
    policy.rings.map(() => []),
    now,
  );
  if (flags.format === 'json') process.stdout.write(`${JSON.stringify(outlook, null, 2)}\n`);
  else {
    const lines = [...outlook.lines];
    if ((outlook.ring?.index ?? 0) > 0)
      lines.push("(Earlier rings' runs are known to the server only: evaluated here as if those rings had no hosts.)");
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
