// Which Alpine branch (`3.18`, `edge`) a host follows. Its advisories are keyed by branch, and
// the branch that matters is the one packages come from: `/etc/apk/repositories` wins over
// `/etc/alpine-release` when they disagree (an upgraded-in-place host keeps the old release file
// until alpine-base is upgraded; a pinned one the other way round).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describeFsError, resolveInRoot } from './rootfs.ts';

export interface AlpineBranch {
  /** `3.18`, `edge`; null when neither the repositories nor the release files tell. */
  branch: string | null;
  /** The branch was taken from the repositories (not from alpine-release / os-release). */
  fromRepositories: boolean;
  /** The repositories name more than one branch. */
  mixed: boolean;
  warnings: string[];
}

export interface RepositoryBranch {
  branch: string;
  /** `@tag` repositories are pinned: apk installs from them only packages asked for by tag. */
  tagged: boolean;
  /** `file:line` of the repository line. */
  where: string;
}

/** `3.18.4` → `3.18`; an edge snapshot (`3.22_alpha20250108`) → `edge`; null if unrecognised. */
export function branchOfRelease(release: string): string | null {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?(_[a-z]+\d*)?$/.exec(release.trim());
  if (!m) return null;
  if (m[3]?.startsWith('_alpha')) return 'edge';
  return `${m[1]}.${m[2]}`;
}

/**
 * The branches named by repository lines (`[@tag] URL-or-path`, `#` comments). Lines without a
 * branch (local media, `latest-stable`, which names no fixed branch) are not listed.
 */
export function repositoryBranches(text: string, file: string): RepositoryBranch[] {
  const out: RepositoryBranch[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const words = lines[i].trim().split(/\s+/);
    if (words[0] === '' || words[0].startsWith('#')) continue;
    const tagged = words[0].startsWith('@');
    const location = tagged ? words[1] : words[0];
    if (!location) continue;
    const m = /(?:^|\/)(v(\d+\.\d+)|edge)\/[^/]+\/?$/.exec(location);
    if (!m) continue;
    out.push({ branch: m[2] ?? 'edge', tagged, where: `${file}:${i + 1}` });
  }
  return out;
}

/**
 * The host's Alpine branch. `osVersionId` (os-release VERSION_ID) is the last resort when
 * neither the repositories nor `/etc/alpine-release` say.
 */
export async function alpineBranch(root: string, osVersionId = ''): Promise<AlpineBranch> {
  const warnings: string[] = [];
  const repos = await readRepositories(root, warnings);
  const releaseFile = await resolveInRoot(root, 'etc/alpine-release');
  const releaseText = await readOptional(releaseFile, warnings);
  const release = releaseText?.split('\n')[0].trim() ?? '';
  let releaseBranch: string | null = null;
  if (release) {
    releaseBranch = branchOfRelease(release);
    if (!releaseBranch) warnings.push(`${releaseFile}: unrecognised release ${JSON.stringify(release)}`);
  }

  const distinct = [...new Set(repos.map((r) => r.branch))];
  const mixed = distinct.length > 1;
  if (mixed) {
    const list = repos.map((r) => `${r.branch}${r.tagged ? ' (tagged)' : ''} at ${r.where}`).join(', ');
    warnings.push(`repositories name several Alpine branches: ${list}`);
  }
  // The first untagged repository is where apk takes packages from by default.
  const fromRepos = (repos.find((r) => !r.tagged) ?? null)?.branch ?? null;
  if (fromRepos) {
    if (releaseBranch && releaseBranch !== fromRepos) {
      warnings.push(
        `${releaseFile} says ${release} (branch ${releaseBranch}) but the repositories use branch ${fromRepos}; using ${fromRepos}`,
      );
    }
    return { branch: fromRepos, fromRepositories: true, mixed, warnings };
  }
  if (releaseBranch) return { branch: releaseBranch, fromRepositories: false, mixed, warnings };
  const fromOs = branchOfRelease(osVersionId);
  if (fromOs) return { branch: fromOs, fromRepositories: false, mixed, warnings };
  warnings.push(
    `cannot tell the Alpine branch: no branch in ${path.join(root, 'etc/apk/repositories')}, no usable ${releaseFile}`,
  );
  return { branch: null, fromRepositories: false, mixed, warnings };
}

/** Repository lines from `/etc/apk/repositories` and `/etc/apk/repositories.d/*.list` (apk 3). */
async function readRepositories(root: string, warnings: string[]): Promise<RepositoryBranch[]> {
  const files = [await resolveInRoot(root, 'etc/apk/repositories')];
  const dir = await resolveInRoot(root, 'etc/apk/repositories.d');
  try {
    for (const n of (await readdir(dir)).sort()) if (n.endsWith('.list')) files.push(path.join(dir, n));
  } catch {
    // No repositories.d: apk 2 keeps everything in the one file.
  }
  const out: RepositoryBranch[] = [];
  for (const f of files) {
    const text = await readOptional(f, warnings);
    if (text !== null) out.push(...repositoryBranches(text, f));
  }
  return out;
}

/** The file's text; null when it does not exist; a warning when it exists but cannot be read. */
async function readOptional(file: string, warnings: string[]): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      warnings.push(`${file}: cannot read: ${describeFsError(err)}`);
    return null;
  }
}
