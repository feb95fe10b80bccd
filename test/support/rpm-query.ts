// Test support: the package list that Debian's real `rpm` (package rpm) reads from a
// database directory, as the reference the native readers are checked against.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RpmCliPackage {
  name: string;
  /** `[E:]V-R`, the epoch only when the header has one (as the reader's `version`). */
  evr: string;
  arch: string | null;
  sourceRpm: string | null;
  vendor: string | null;
  modularityLabel: string | null;
}

const QUERY_FORMAT =
  '%{NAME}\\t%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\t%{VENDOR}\\t%{MODULARITYLABEL}\\n';

/**
 * `rpm -qa` over the database in `dbDir`. rpm wants to create lock files beside the
 * database, so it runs on a copy in a temporary directory. gpg-pubkey entries are dropped.
 */
export function rpmQueryAll(dbDir: string): RpmCliPackage[] {
  const work = mkdtempSync(path.join(tmpdir(), 'patchloop-rpmcli-'));
  try {
    const copy = path.join(work, 'db');
    cpSync(dbDir, copy, { recursive: true });
    let out: string;
    try {
      out = execFileSync('rpm', ['--dbpath', copy, '-qa', '--qf', QUERY_FORMAT], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT')
        throw new Error(
          'the rpm binary is missing: install Debian package rpm (listed in scripts/test-debian-packages)',
          { cause: err },
        );
      throw new Error(`rpm -qa failed on ${dbDir}: ${e.stderr ?? e.message}`, { cause: err });
    }
    const none = (s: string): string | null => (s === '(none)' ? null : s);
    return out
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [name, evr, arch, sourceRpm, vendor, modularityLabel] = line.split('\t');
        return {
          name,
          evr,
          arch: none(arch),
          sourceRpm: none(sourceRpm),
          vendor: none(vendor),
          modularityLabel: none(modularityLabel),
        };
      })
      .filter((p) => p.name !== 'gpg-pubkey');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
