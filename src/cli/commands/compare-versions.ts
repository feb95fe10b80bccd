// `patchloop compare-versions --scheme deb|rpm|apk [A B]` (DESIGN.md contract): with two
// versions prints -1, 0 or 1; without, reads `A<TAB>B` lines from stdin and prints one
// result per line, `invalid` where the scheme refuses a version.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import type { VersionSchemeName } from '../../core/types.ts';
import { PatchloopError } from '../../core/errors.ts';
import { counted } from '../../core/plural.ts';

// Listed here so that registering the command loads no scheme code; index.ts has the same list.
const SCHEMES = ['deb', 'rpm', 'apk'] as const satisfies readonly VersionSchemeName[];
type SchemeName = (typeof SCHEMES)[number];

const HELP_AFTER = `
Orders versions exactly as the distribution's package manager does:
  deb  dpkg --compare-versions   [epoch:]upstream[-revision]
  rpm  rpm's rpmvercmp and EVR   [epoch:]version[-release]
  apk  apk version -t            1.2.3[a][_suffix[N]]...[~hash][-rN]

With A and B: prints -1 (A older), 0 (same) or 1 (A newer). A version the scheme
refuses is reported on stderr, exit status 2.

Without them: reads lines "A<TAB>B" from stdin and prints one line per input line:
-1, 0, 1, or "invalid" when the scheme refuses either version. A line that is not
two tab-separated fields also prints "invalid", is named on stderr, and makes the
exit status 1 once all input is read.

Examples:
  patchloop compare-versions --scheme deb 1:2.0-1 2.1-1        # 1
  printf '1.0-r0\\t1.0_rc1-r0\\n' | patchloop compare-versions --scheme apk
`;

export function register(program: Command): void {
  program
    .command('compare-versions')
    .description('compare two versions (or A<TAB>B lines on stdin) with a distribution version scheme')
    .addOption(new Option('--scheme <scheme>', 'version scheme').choices(SCHEMES).makeOptionMandatory())
    .argument('[a]', 'first version')
    .argument('[b]', 'second version')
    .addHelpText('after', HELP_AFTER)
    .action(async (a: string | undefined, b: string | undefined, opts: { scheme: SchemeName }) => {
      if (a !== undefined && b === undefined) {
        throw new PatchloopError(
          'PL_E_USAGE',
          'compare-versions: give two versions, or none to read A<TAB>B lines from stdin',
        );
      }
      const { getScheme, InvalidVersionError } = await import('../../core/version/index.ts');
      const scheme = getScheme(opts.scheme);
      if (a !== undefined && b !== undefined) {
        let result: number;
        try {
          result = scheme.compare(a, b);
        } catch (err) {
          if (err instanceof InvalidVersionError) throw new PatchloopError('PL_E_USAGE', err.message);
          throw err;
        }
        process.stdout.write(`${result}\n`);
        return;
      }
      const malformed = await compareLines(process.stdin, process.stdout, (x, y) => {
        try {
          return String(scheme.compare(x, y));
        } catch (err) {
          if (err instanceof InvalidVersionError) return 'invalid';
          throw err;
        }
      });
      if (malformed.count > 0) {
        const shown = malformed.lines.join(', ');
        const more = malformed.count > malformed.lines.length ? ', …' : '';
        throw new PatchloopError(
          'PL_E_FAILED',
          `stdin: ${counted(malformed.count, 'line')} not of the form A<TAB>B (line ${shown}${more})`,
        );
      }
    });
}

/** Lines after which buffered output is flushed, so memory stays flat on large inputs. */
const FLUSH_LINES = 4096;
/** How many malformed line numbers are named in the final message. */
const MAX_NAMED = 10;

/**
 * Streams `A<TAB>B` lines from `input` and writes one result per line to `output`. Returns
 * the malformed lines (not exactly two tab-separated fields), which print `invalid`.
 */
async function compareLines(
  input: Readable,
  output: Writable,
  compare: (a: string, b: string) => string,
): Promise<{ count: number; lines: number[] }> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  const malformed = { count: 0, lines: [] as number[] };
  // A reader that goes away (`| head`) ends the run quietly instead of failing on EPIPE.
  let outputGone = false;
  let outputError: Error | null = null;
  const onError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') outputGone = true;
    else outputError = err;
    lines.close();
  };
  output.on('error', onError);
  let buffer = '';
  let pending = 0;
  let lineNo = 0;
  for await (const line of lines) {
    if (outputGone || outputError) break;
    lineNo++;
    const tab = line.indexOf('\t');
    if (tab < 0 || line.indexOf('\t', tab + 1) >= 0) {
      malformed.count++;
      if (malformed.lines.length < MAX_NAMED) malformed.lines.push(lineNo);
      buffer += 'invalid\n';
    } else {
      buffer += `${compare(line.slice(0, tab), line.slice(tab + 1))}\n`;
    }
    if (++pending >= FLUSH_LINES) {
      if (!(await write(output, buffer))) break;
      buffer = '';
      pending = 0;
    }
  }
  if (buffer !== '' && !outputGone && !outputError) await write(output, buffer);
  output.off('error', onError);
  if (outputError) throw outputError;
  return malformed;
}

/** Writes with back-pressure; false when the reader has gone away. */
async function write(output: Writable, chunk: string): Promise<boolean> {
  if (output.write(chunk)) return true;
  try {
    await once(output, 'drain');
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return false;
    throw err;
  }
}
