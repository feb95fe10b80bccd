import { once } from 'node:events';
import { accessSync, constants, createWriteStream, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { FAIL_ON_CHOICES, type FailOn } from '../../scan/report.ts';
import { renderReport, SCAN_FORMATS, type ScanFormat } from '../../scan/format/index.ts';
import { PatchloopError } from '../../core/errors.ts';
import { EXIT } from '../exit.ts';

interface ScanFlags {
  root: string;
  dataDir?: string;
  kernel?: string;
  format: ScanFormat;
  failOn?: FailOn;
  onlyFixed?: boolean;
  vuln?: string[];
  includeUndetermined?: boolean;
  pro?: boolean;
  output?: string;
  groupBy: 'source' | 'fix';
  ignoreFile?: string;
}

export function register(program: Command): void {
  program
    .command('scan')
    .description('scan the installed packages of this host (or a root directory) for known vulnerabilities')
    .option('--root <dir>', 'root directory of the system to scan', '/')
    .option(
      '--data-dir <dir>',
      'data directory holding the vulnerability DB (default: $PATCHLOOP_HOME, /var/lib/patchloop as root, else ~/.local/share/patchloop)',
    )
    .option('--kernel <release>', 'running kernel release of that root (default for /: uname -r)')
    .addOption(new Option('--format <format>', 'output format').choices(SCAN_FORMATS).default('table'))
    .addOption(
      new Option(
        '--fail-on <level>',
        'exit 1 when an exposure meets it: a severity (that or worse), kev (known exploited), or p1..p4 (that priority or higher)',
      ).choices(FAIL_ON_CHOICES as string[]),
    )
    .addOption(
      new Option(
        '--group-by <what>',
        'table: group findings by source package, or by the upgrade that fixes them (fix: the remediation roll-up)',
      )
        .choices(['source', 'fix'])
        .default('source'),
    )
    .option('--only-fixed', 'report only vulnerabilities with a fixed version available')
    .option(
      '--vuln <id...>',
      'report only these vulnerabilities: a CVE, an alias or an advisory id (ALSA-2024:10274 finds every CVE it fixes)',
    )
    .option('--include-undetermined', 'also report entries the distribution has not yet assessed')
    .option('--pro', 'Ubuntu: the host is attached to Ubuntu Pro (esm fixes are installable)')
    .option('-o, --output <file>', 'write the report to a file instead of standard output')
    .option(
      '--ignore-file <file>',
      'exceptions (.patchloop-ignore.yaml, docs/exceptions.md): findings they cover are reported as excepted',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 done; 1 --fail-on met; 2 usage error (including an -o file that cannot be created); 3 cannot scan (unsupported distribution,\n' +
        'unreadable package or vulnerability database, no vulnerability data, a report that cannot be written). The error names the file.',
    )
    .action(async (flags: ScanFlags) => {
      const { scanHost } = await import('../../scan/scan.ts');
      const { meetsFailOn } = await import('../../scan/report.ts');
      const { defaultDataDir } = await import('../../vulndb/paths.ts');
      // A report that could not be written would be a scan for nothing: the place is checked first.
      if (flags.output !== undefined) checkOutputPath(flags.output);
      if (flags.groupBy !== 'source' && flags.format !== 'table')
        throw new PatchloopError(
          'PL_E_USAGE',
          `--group-by ${flags.groupBy} groups the table; it does not apply to --format ${flags.format}`,
        );
      let report = await scanHost({
        root: flags.root,
        dataDir: flags.dataDir ?? defaultDataDir(),
        kernel: flags.kernel,
        onlyFixed: flags.onlyFixed,
        vulnerabilities: flags.vuln,
        includeUndetermined: flags.includeUndetermined,
        proAttached: flags.pro,
      });
      if (flags.ignoreFile !== undefined) {
        const { applyIgnoreEntries, readIgnoreFile } = await import('../../scan/ignore-file.ts');
        report = applyIgnoreEntries(report, readIgnoreFile(flags.ignoreFile), Date.now(), flags.ignoreFile);
      }
      const toFile = flags.output !== undefined;
      // The table on a terminal shows warnings itself; otherwise they go to stderr (and the
      // JSON report carries them too).
      if (flags.format !== 'table' || toFile)
        for (const w of report.warnings) process.stderr.write(`patchloop: warning: ${w}\n`);
      const chunks = await renderReport(report, flags.format, {
        colour: !toFile && process.stdout.isTTY && !process.env.NO_COLOR,
        groupBy: flags.groupBy,
      });
      await writeOut(chunks, flags.output);
      if (flags.failOn && meetsFailOn(report.findings, flags.failOn)) process.exitCode = EXIT.failure;
    });
}

/** -o names a file in an existing directory, not a directory: otherwise a usage error. */
function checkOutputPath(file: string): void {
  const dir = dirname(resolve(file));
  let problem: string | null = null;
  try {
    if (!statSync(dir).isDirectory()) problem = `${dir} is not a directory`;
    else if (existsSync(file) && statSync(file).isDirectory()) problem = `${file} is a directory`;
    else accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problem =
      code === 'ENOENT'
        ? `the directory ${dir} does not exist`
        : code === 'EACCES'
          ? `no permission to write in ${dir}`
          : `${dir}: ${code ?? (err as Error).message}`;
  }
  if (problem) throw new PatchloopError('PL_E_USAGE', `-o ${file}: cannot write the report there: ${problem}`);
}

/** Writes the report to a file or standard output, respecting back-pressure. */
async function writeOut(chunks: Iterable<string>, file: string | undefined): Promise<void> {
  if (file === undefined) {
    for (const chunk of chunks) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    return;
  }
  const out = createWriteStream(file);
  try {
    // Between awaits nothing is emitted, and each await (events.once) rejects on 'error'.
    for (const chunk of chunks) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
  } catch (err) {
    out.destroy();
    throw new Error(
      `cannot write the report to ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}
