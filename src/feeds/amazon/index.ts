// Amazon Linux 2023: the ALAS2023 advisories as the distribution's repositories publish them, in
// updateinfo.xml (the RHEL family's format: per advisory its severity, CVEs and the binary rpms
// that fix it, with full E:V-R and arch). Each architecture's repository lists its own builds,
// so the default downloads are the x86_64 and aarch64 core repositories, reached as dnf reaches
// them: mirror list → repodata/repomd.xml → the updateinfo file it names (common/repodata.ts).
//
// Inputs (`--from`): an updateinfo.xml (plain or gzip/xz/zstd-compressed); a repository copy (its
// root or its repodata/ directory) or its repomd.xml, whose updateinfo file is read after its
// checksum is checked; or a URL of any of these or of a mirror list.
//
// Amazon Linux 2 (ALAS2-…, yum, os-release VERSION_ID 2) is not supported: its advisories are
// skipped with a warning, and inputs that hold no ALAS2023 advisory at all are refused.
import { createHash, getHashes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError, readInput, type InputFile } from '../archive.ts';
import { EntryBuffer } from '../common/entries.ts';
import { looksLikeRepomd, RepodataError, followRepository, updateinfoRecord } from '../common/repodata.ts';
import { fromAmazonSeverity } from '../common/severity.ts';
import {
  looksLikeUpdateinfo,
  readUpdateinfo,
  UpdateinfoError,
  utf8Chunks,
  type UpdateHeader,
} from '../common/updateinfo.ts';
import type { FeedImportContext, FeedSource } from '../registry.ts';

/** The mirror lists of the Amazon Linux 2023 core repository, as AWS publishes them for dnf. */
export const AMAZON_LINUX_2023_MIRROR_LISTS = [
  'https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list',
  'https://cdn.amazonlinux.com/al2023/core/mirrors/latest/aarch64/mirror.list',
] as const;

/** The os-release ID, and the `distro` of the entries. */
const DISTRO = 'amzn';
const RELEASE = '2023';
/** ALAS2023-2024-123 (and the kernel live patches' ALAS2023LIVEPATCH-…). */
const ALAS2023 = /^ALAS2023[A-Z]*-\d{4}-\d+$/;
/** Problems warned about one by one per file; the rest are counted. */
const PROBLEMS_SHOWN = 5;

export interface AmazonImportSummary {
  /** updateinfo documents read. */
  documents: number;
  updates: number;
  /** ALAS2023 advisories filed. */
  advisories: number;
  /** Advisories of other releases (Amazon Linux 2…), skipped. */
  otherReleases: number;
  nonSecurity: number;
  entries: number;
}

export const amazonFeed: FeedSource = {
  name: 'amazon',
  description: "Amazon Linux 2023 advisories (ALAS2023): the core repositories' updateinfo.xml",
  defaultUrls: AMAZON_LINUX_2023_MIRROR_LISTS,
  follow: followRepository,
  async import(inputs, ctx) {
    await importAmazon(inputs, ctx);
  },
};

export async function importAmazon(inputs: readonly string[], ctx: FeedImportContext): Promise<AmazonImportSummary> {
  const buffer = new EntryBuffer();
  const summary: AmazonImportSummary = {
    documents: 0,
    updates: 0,
    advisories: 0,
    otherReleases: 0,
    nonSecurity: 0,
    entries: 0,
  };
  let otherExample = '';
  const releaseOf = (u: UpdateHeader): string | { skip: string } => {
    if (ALAS2023.test(u.id)) {
      summary.advisories++;
      return RELEASE;
    }
    summary.otherReleases++;
    otherExample ||= u.id;
    return {
      skip: 'not an Amazon Linux 2023 advisory (ALAS2023-…); Amazon Linux 2 and older releases are not supported',
    };
  };
  for (const input of inputs) {
    for await (const file of updateinfoFiles(input)) {
      const problems: string[] = [];
      let counts;
      try {
        counts = readUpdateinfo(
          utf8Chunks(file.data),
          { feed: 'amazon', distro: DISTRO, releaseOf, severity: fromAmazonSeverity },
          {
            entry: (e) => buffer.add(e),
            vulnerability: (v) => ctx.writer.vulnerability(v),
            problem: (m) => problems.push(m),
          },
        );
      } catch (err) {
        // The file is the feed: half of it would hide every advisory of the other half.
        if (err instanceof UpdateinfoError) throw new InputError(`${file.origin}: ${err.message}`);
        throw err;
      }
      summary.documents++;
      summary.updates += counts.updates;
      summary.nonSecurity += counts.nonSecurity;
      for (const p of problems.slice(0, PROBLEMS_SHOWN)) ctx.warn(`${file.origin}: skipped ${p}`);
      if (problems.length > PROBLEMS_SHOWN)
        ctx.warn(`${file.origin}: ${problems.length - PROBLEMS_SHOWN} more updates or packages skipped`);
    }
  }
  // An empty result would replace the feed with nothing: refused, the previous database stays.
  if (summary.advisories === 0) {
    const found =
      summary.otherReleases > 0
        ? `only ${summary.otherReleases} of other releases (such as ${otherExample}); patchloop reads Amazon Linux 2023 data only`
        : `${summary.updates} updates, none of them a security advisory`;
    throw new InputError(`${inputs.join(', ')}: no Amazon Linux 2023 advisory (ALAS2023-…): ${found}`);
  }
  summary.entries = buffer.flush(ctx.writer);
  ctx.writer.meta('updateinfo_documents', String(summary.documents));
  ctx.writer.meta('updateinfo_updates', String(summary.updates));
  return summary;
}

/** The updateinfo documents of one input, decompressed. */
async function* updateinfoFiles(input: string): AsyncGenerator<InputFile> {
  let isDir: boolean;
  try {
    isDir = (await stat(input)).isDirectory();
  } catch (err) {
    throw new InputError(
      `${input}: cannot read input: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (isDir) {
    yield* repositoryUpdateinfo(await repomdIn(input));
    return;
  }
  for await (const file of readInput(input)) {
    const head = Buffer.from(file.data.subarray(0, 4096)).toString('utf8');
    if (looksLikeUpdateinfo(head)) yield file;
    else if (looksLikeRepomd(head)) yield* repositoryUpdateinfo(input);
    else throw new InputError(`${file.origin}: not an updateinfo document (no <updates>) nor a repomd.xml`);
  }
}

/** The repomd.xml of a repository given by its root or its repodata/ directory. */
async function repomdIn(dir: string): Promise<string> {
  for (const candidate of [join(dir, 'repodata', 'repomd.xml'), join(dir, 'repomd.xml')]) {
    if (
      await stat(candidate).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return candidate;
  }
  throw new InputError(`${dir}: not an rpm repository (no repodata/repomd.xml) nor an updateinfo file`);
}

/** The updateinfo file a repository's repomd.xml names, checked against the checksum it gives. */
async function* repositoryUpdateinfo(repomd: string): AsyncGenerator<InputFile> {
  let href: string;
  let checksum;
  try {
    ({ href, checksum } = updateinfoRecord(await readFile(repomd, 'utf8')));
  } catch (err) {
    if (err instanceof RepodataError) throw new InputError(`${repomd}: ${err.message}`);
    throw err;
  }
  // Locations are relative to the repository root, the parent of repodata/.
  const file = join(dirname(dirname(repomd)), href);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new InputError(
      `${repomd} names ${href}, which cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const algorithm = checksum?.type === 'sha' ? 'sha1' : checksum?.type;
  if (checksum && algorithm && getHashes().includes(algorithm)) {
    const actual = createHash(algorithm).update(bytes).digest('hex');
    if (actual !== checksum.value) {
      throw new InputError(
        `${file}: ${checksum.type} ${actual} is not the ${checksum.value} that ${repomd} gives: a partial or mixed copy of the repository`,
      );
    }
  }
  for await (const member of readInput(file)) yield member;
}
