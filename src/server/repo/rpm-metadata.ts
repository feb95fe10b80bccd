// The dnf/yum repository metadata (the format createrepo_c writes): primary.xml (what each
// package is, provides and requires, where it is, its SHA-256), filelists.xml (every file),
// other.xml (changelogs), each gzip-compressed under a name that starts with its digest, and
// repomd.xml listing them — the file the repository's OpenPGP key signs (repomd.xml.asc).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { nums, num, SIGTAG_LONGARCHIVESIZE, SIGTAG_PAYLOADSIZE, str, strings, TAG, type RpmFile } from './rpm-file.ts';

export interface RpmEntry {
  rpm: RpmFile;
  /** Path below the repository root (`Packages/<file>`). */
  href: string;
  size: number;
  sha256: string;
  /** The file's modification time, seconds. */
  mtime: number;
}

function esc(s: string): string {
  // XML 1.0 has no representation for most control characters: they are dropped.
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
  );
}

function attrs(a: Record<string, string | number | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(String(v))}"`)
    .join('');
}

const RPMSENSE_LESS = 2;
const RPMSENSE_GREATER = 4;
const RPMSENSE_EQUAL = 8;
/** Requirements needed before install (PreReq, Requires(pre), Requires(post)): primary's pre="1". */
const RPMSENSE_PRE = (1 << 6) | (1 << 9) | (1 << 10);

function flagName(flags: number): string | undefined {
  switch (flags & (RPMSENSE_LESS | RPMSENSE_GREATER | RPMSENSE_EQUAL)) {
    case RPMSENSE_EQUAL:
      return 'EQ';
    case RPMSENSE_LESS:
      return 'LT';
    case RPMSENSE_GREATER:
      return 'GT';
    case RPMSENSE_LESS | RPMSENSE_EQUAL:
      return 'LE';
    case RPMSENSE_GREATER | RPMSENSE_EQUAL:
      return 'GE';
    default:
      return undefined;
  }
}

/** `[E:]V[-R]` into its parts, as createrepo_c splits a dependency's version. */
function splitEvr(evr: string): { epoch?: string; ver?: string; rel?: string } {
  if (evr === '') return {};
  const colon = evr.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(evr.slice(0, colon)) ? evr.slice(0, colon) : '0';
  const vr = colon > 0 ? evr.slice(colon + 1) : evr;
  const dash = vr.lastIndexOf('-');
  return dash === -1 ? { epoch, ver: vr } : { epoch, ver: vr.slice(0, dash), rel: vr.slice(dash + 1) };
}

function dependencies(rpm: RpmFile, kind: 'provides' | 'requires' | 'conflicts' | 'obsoletes'): string {
  const h = rpm.header;
  const [nameTag, flagsTag, versionTag] = {
    provides: [TAG.PROVIDENAME, TAG.PROVIDEFLAGS, TAG.PROVIDEVERSION],
    requires: [TAG.REQUIRENAME, TAG.REQUIREFLAGS, TAG.REQUIREVERSION],
    conflicts: [TAG.CONFLICTNAME, TAG.CONFLICTFLAGS, TAG.CONFLICTVERSION],
    obsoletes: [TAG.OBSOLETENAME, TAG.OBSOLETEFLAGS, TAG.OBSOLETEVERSION],
  }[kind];
  const names = strings(h, nameTag);
  const flags = nums(h, flagsTag);
  const versions = strings(h, versionTag);
  const seen = new Set<string>();
  const entries: string[] = [];
  names.forEach((name, i) => {
    // rpmlib() capabilities are rpm's own, never resolved against a repository.
    if (kind === 'requires' && name.startsWith('rpmlib(')) return;
    const f = flags[i] ?? 0;
    const evr = splitEvr(versions[i] ?? '');
    const entry = `<rpm:entry${attrs({ name, flags: flagName(f), ...evr, pre: kind === 'requires' && f & RPMSENSE_PRE ? '1' : undefined })}/>`;
    if (!seen.has(entry)) entries.push(entry);
    seen.add(entry);
  });
  return entries.length ? `<rpm:${kind}>${entries.join('')}</rpm:${kind}>` : '';
}

interface FileItem {
  path: string;
  type?: 'dir' | 'ghost';
}

function files(rpm: RpmFile): FileItem[] {
  const h = rpm.header;
  const dirs = strings(h, TAG.DIRNAMES);
  const indexes = nums(h, TAG.DIRINDEXES);
  const modes = nums(h, TAG.FILEMODES);
  const flags = nums(h, TAG.FILEFLAGS);
  return strings(h, TAG.BASENAMES).map((base, i) => {
    const type = (flags[i] ?? 0) & 64 ? 'ghost' : ((modes[i] ?? 0) & 0o170000) === 0o040000 ? 'dir' : undefined;
    return { path: `${dirs[indexes[i]] ?? ''}${base}`, type };
  });
}

/** Files primary.xml lists (createrepo's rule): executables' directories and /etc. */
const PRIMARY_FILE = /^(\/etc\/|\/usr\/lib\/sendmail$|.*bin\/)/;

function fileXml(f: FileItem): string {
  return `<file${attrs({ type: f.type })}>${esc(f.path)}</file>`;
}

function nevra(rpm: RpmFile): { name: string; arch: string; version: string } {
  const h = rpm.header;
  const version = `<version${attrs({ epoch: String(num(h, TAG.EPOCH) ?? 0), ver: str(h, TAG.VERSION) ?? '', rel: str(h, TAG.RELEASE) ?? '' })}/>`;
  return { name: str(h, TAG.NAME) ?? '', arch: str(h, TAG.ARCH) ?? '', version };
}

function primaryPackage(e: RpmEntry): string {
  const h = e.rpm.header;
  const sig = e.rpm.signature;
  const { name, arch, version } = nevra(e.rpm);
  const installed = num(h, TAG.LONGSIZE) ?? num(h, TAG.SIZE) ?? 0;
  const archive =
    num(sig, SIGTAG_LONGARCHIVESIZE) ??
    num(sig, SIGTAG_PAYLOADSIZE) ??
    num(h, TAG.LONGARCHIVESIZE) ??
    num(h, TAG.ARCHIVESIZE) ??
    0;
  const text = (tag: number) => esc(str(h, tag) ?? '');
  return [
    '<package type="rpm">',
    `<name>${esc(name)}</name>`,
    `<arch>${esc(arch)}</arch>`,
    version,
    `<checksum type="sha256" pkgid="YES">${e.sha256}</checksum>`,
    `<summary>${text(TAG.SUMMARY)}</summary>`,
    `<description>${text(TAG.DESCRIPTION)}</description>`,
    `<packager>${text(TAG.PACKAGER)}</packager>`,
    `<url>${text(TAG.URL)}</url>`,
    `<time${attrs({ file: e.mtime, build: num(h, TAG.BUILDTIME) ?? 0 })}/>`,
    `<size${attrs({ package: e.size, installed, archive })}/>`,
    `<location${attrs({ href: e.href })}/>`,
    '<format>',
    `<rpm:license>${text(TAG.LICENSE)}</rpm:license>`,
    `<rpm:vendor>${text(TAG.VENDOR)}</rpm:vendor>`,
    `<rpm:group>${text(TAG.GROUP)}</rpm:group>`,
    `<rpm:buildhost>${text(TAG.BUILDHOST)}</rpm:buildhost>`,
    `<rpm:sourcerpm>${text(TAG.SOURCERPM)}</rpm:sourcerpm>`,
    `<rpm:header-range${attrs({ start: h.start, end: h.end })}/>`,
    dependencies(e.rpm, 'provides'),
    dependencies(e.rpm, 'requires'),
    dependencies(e.rpm, 'conflicts'),
    dependencies(e.rpm, 'obsoletes'),
    ...files(e.rpm)
      .filter((f) => PRIMARY_FILE.test(f.path))
      .map(fileXml),
    '</format>',
    '</package>',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

function filelistsPackage(e: RpmEntry): string {
  const { name, arch, version } = nevra(e.rpm);
  return [
    `<package${attrs({ pkgid: e.sha256, name, arch })}>`,
    version,
    ...files(e.rpm).map(fileXml),
    '</package>',
  ].join('\n');
}

function otherPackage(e: RpmEntry): string {
  const h = e.rpm.header;
  const { name, arch, version } = nevra(e.rpm);
  const times = nums(h, TAG.CHANGELOGTIME);
  const authors = strings(h, TAG.CHANGELOGNAME);
  const texts = strings(h, TAG.CHANGELOGTEXT);
  const changelog = times.map(
    (t, i) => `<changelog${attrs({ author: authors[i] ?? '', date: t })}>${esc(texts[i] ?? '')}</changelog>`,
  );
  return [`<package${attrs({ pkgid: e.sha256, name, arch })}>`, version, ...changelog, '</package>'].join('\n');
}

const XML = '<?xml version="1.0" encoding="UTF-8"?>';

export interface RepodataFile {
  /** Path below the repository root (`repodata/<sha256>-primary.xml.gz`, `repodata/repomd.xml`). */
  path: string;
  body: Buffer;
}

/** The metadata files and repomd.xml (unsigned: the caller adds repomd.xml.asc). */
export function rpmRepodata(entries: readonly RpmEntry[], now: number): { files: RepodataFile[]; repomd: Buffer } {
  const n = entries.length;
  const documents: [string, string][] = [
    [
      'primary',
      `${XML}\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${n}">\n${entries.map(primaryPackage).join('\n')}\n</metadata>\n`,
    ],
    [
      'filelists',
      `${XML}\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${n}">\n${entries.map(filelistsPackage).join('\n')}\n</filelists>\n`,
    ],
    [
      'other',
      `${XML}\n<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="${n}">\n${entries.map(otherPackage).join('\n')}\n</otherdata>\n`,
    ],
  ];
  const seconds = Math.floor(now / 1000);
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const files: RepodataFile[] = [];
  const data = documents.map(([type, xml]) => {
    const open = Buffer.from(xml);
    const body = gzipSync(open, { level: 9 });
    const path = `repodata/${sha256(body)}-${type}.xml.gz`;
    files.push({ path, body });
    return [
      `<data type="${type}">`,
      `  <checksum type="sha256">${sha256(body)}</checksum>`,
      `  <open-checksum type="sha256">${sha256(open)}</open-checksum>`,
      `  <location href="${path}"/>`,
      `  <timestamp>${seconds}</timestamp>`,
      `  <size>${body.length}</size>`,
      `  <open-size>${open.length}</open-size>`,
      '</data>',
    ].join('\n');
  });
  const repomd = Buffer.from(
    `${XML}\n<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n<revision>${seconds}</revision>\n${data.join('\n')}\n</repomd>\n`,
  );
  return { files, repomd };
}
