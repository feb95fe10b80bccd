// Parser for /var/log/unattended-upgrades/unattended-upgrades-dpkg.log: dpkg's terminal
// output, one `Log started: … / Log ended: …` block per MinimalSteps set. Carriage returns
// separate progress updates ("(Reading database ... 5%"), so they split lines too. What counts
// here is which packages dpkg reported errors for, and which locally changed config files it
// kept, since history.log lists a whole transaction even when one package in it failed.
import { PatchloopError } from '../../core/errors.ts';

export interface DpkgFailure {
  package: string;
  /** `configure`, `unpack`, `install`, `remove`, … as dpkg printed it, or `dependencies`. */
  phase: string;
  detail: string;
  line: number;
}

export interface DpkgBlock {
  line: number;
  /** As logged: `YYYY-MM-DD  HH:MM:SS`. */
  started: string | null;
  ended: string | null;
  unpacked: { name: string; version: string; over: string | null }[];
  setup: { name: string; version: string }[];
  removed: { name: string; version: string }[];
  failures: DpkgFailure[];
  /** `E:` lines from apt. */
  apt_errors: { message: string; line: number }[];
  /** Config files changed locally that dpkg kept (--force-confold) while upgrading `package`. */
  conffiles_kept: { path: string; package: string | null; line: number }[];
}

export class DpkgLogError extends PatchloopError {
  constructor(file: string, line: number, message: string) {
    super('PL_E_PATCH_LOG', `${file}:${line}: ${message}`);
  }
}

const stripArch = (p: string): string => p.replace(/:[a-z0-9-]+$/, '');

/** Package name from a .deb path (`/var/cache/apt/archives/foo_1.0-1_amd64.deb`). */
function debName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.includes('_') ? base.slice(0, base.indexOf('_')) : base;
}

export function parseDpkgLog(text: string, file: string, firstLine = 1): DpkgBlock[] {
  const blocks: DpkgBlock[] = [];
  let cur: DpkgBlock | null = null;
  let current: string | null = null; // package being unpacked or set up, for conffile notes
  let pending:
    { kind: 'failure'; f: DpkgFailure } | { kind: 'errors' } | { kind: 'conffile'; path: string; line: number } | null =
    null;
  const open = (line: number, started: string | null): DpkgBlock => ({
    line,
    started,
    ended: null,
    unpacked: [],
    setup: [],
    removed: [],
    failures: [],
    apt_errors: [],
    conffiles_kept: [],
  });
  const physical = text.split('\n');
  let sawAny = false;
  physical.forEach((phys, i) => {
    const lineNo = firstLine + i;
    for (const line of phys.split('\r')) {
      let m: RegExpExecArray | null;
      if ((m = /^Log started: (.*)$/.exec(line))) {
        if (cur) blocks.push(cur);
        cur = open(lineNo, m[1]);
        current = null;
        pending = null;
        sawAny = true;
        continue;
      }
      if ((m = /^Log ended: (.*)$/.exec(line))) {
        if (!cur) throw new DpkgLogError(file, lineNo, '"Log ended" without "Log started"');
        cur.ended = m[1];
        blocks.push(cur);
        cur = null;
        pending = null;
        continue;
      }
      if (line.trim() === '') continue;
      if (!cur) {
        // output outside a block: tolerated (a log cut by rotation), but it must look like dpkg's
        if (!sawAny && blocks.length === 0 && i === 0)
          throw new DpkgLogError(
            file,
            lineNo,
            `not an unattended-upgrades dpkg log (expected "Log started: …"): ${JSON.stringify(line.slice(0, 80))}`,
          );
        continue;
      }
      const block: DpkgBlock = cur;
      // continuation lines (indented) of the record before
      if (/^ /.test(line) && pending) {
        const p = pending;
        if (p.kind === 'failure') p.f.detail = p.f.detail ? `${p.f.detail}\n${line.trim()}` : line.trim();
        else if (p.kind === 'errors') {
          const name = line.trim();
          if (!block.failures.some((f) => f.package === debName(stripArch(name)))) {
            block.failures.push({
              package: debName(stripArch(name)),
              phase: 'unknown',
              detail: 'listed under "Errors were encountered while processing"',
              line: lineNo,
            });
          }
        } else if (p.kind === 'conffile' && /==> Keeping old config file as default\./.test(line)) {
          block.conffiles_kept.push({ path: p.path, package: current, line: p.line });
        }
        continue;
      }
      pending = null;
      if ((m = /^Unpacking (\S+) \(([^)]+)\) over \(([^)]+)\) \.\.\.$/.exec(line))) {
        current = stripArch(m[1]);
        block.unpacked.push({ name: current, version: m[2], over: m[3] });
      } else if ((m = /^Unpacking (\S+) \(([^)]+)\) \.\.\.$/.exec(line))) {
        current = stripArch(m[1]);
        block.unpacked.push({ name: current, version: m[2], over: null });
      } else if ((m = /^Setting up (\S+) \(([^)]+)\) \.\.\.$/.exec(line))) {
        current = stripArch(m[1]);
        block.setup.push({ name: current, version: m[2] });
      } else if ((m = /^Removing (\S+) \(([^)]+)\) \.\.\.$/.exec(line))) {
        block.removed.push({ name: stripArch(m[1]), version: m[2] });
      } else if ((m = /^dpkg: error processing (package|archive) (\S+) \(--([a-z-]+)\):$/.exec(line))) {
        const name = m[1] === 'archive' ? debName(m[2]) : stripArch(m[2]);
        const f: DpkgFailure = { package: name, phase: m[3], detail: '', line: lineNo };
        block.failures.push(f);
        pending = { kind: 'failure', f };
      } else if ((m = /^dpkg: dependency problems prevent (configuration|removal) of (\S+):$/.exec(line))) {
        const f: DpkgFailure = { package: stripArch(m[2]), phase: 'dependencies', detail: '', line: lineNo };
        block.failures.push(f);
        pending = { kind: 'failure', f };
      } else if (line === 'Errors were encountered while processing:') {
        pending = { kind: 'errors' };
      } else if ((m = /^E: ?(.*)$/.exec(line))) {
        block.apt_errors.push({ message: m[1], line: lineNo });
      } else if ((m = /^Configuration file '([^']+)'$/.exec(line))) {
        pending = { kind: 'conffile', path: m[1], line: lineNo };
      }
    }
  });
  if (cur) blocks.push(cur);
  return blocks;
}

/** Packages dpkg reported errors for, over all blocks. */
export function failedPackages(blocks: readonly DpkgBlock[]): Map<string, DpkgFailure> {
  const out = new Map<string, DpkgFailure>();
  for (const b of blocks) for (const f of b.failures) if (!out.has(f.package)) out.set(f.package, f);
  return out;
}
