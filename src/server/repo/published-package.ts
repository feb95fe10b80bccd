// One package file the repository publishes, whatever its format: read once (parsed and
// hashed), then kept while the file is unchanged. Only patchloop's own packages, for the
// architectures it is built for, are published: the repository updates hosts as root, and must
// not become a way to hand them anything else.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { readApkFile, type ApkPackage } from './apk-file.ts';
import { readDebControl, type DebControl } from './deb-file.ts';
import { fileDigests, PackageFileError } from './package-file.ts';
import { readRpmFile, str, TAG, type RpmFile } from './rpm-file.ts';

export const PACKAGE_NAME = 'patchloop';
const DEB_ARCHES = ['amd64', 'arm64'];
const RPM_APK_ARCHES = ['x86_64', 'aarch64'];

interface Common {
  /** The file as it lies in the packages directory. */
  file: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  /** The format's own architecture name. */
  arch: string;
  /** The format's full version (deb: [E:]V-R, rpm: V-R, apk: V-rN). */
  version: string;
  /** The upstream version alone, as `patchloop --version` prints it. */
  upstream: string;
  /** The name the repository serves it under. */
  name: string;
}

export type PublishedPackage =
  | (Common & { kind: 'deb'; control: DebControl })
  | (Common & { kind: 'rpm'; rpm: RpmFile })
  | (Common & { kind: 'apk'; apk: ApkPackage });

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

function check(
  file: string,
  name: string | undefined,
  arch: string | undefined,
  arches: string[],
  version: string | undefined,
): asserts version is string {
  if (name !== PACKAGE_NAME)
    throw new PackageFileError(file, `package ${JSON.stringify(name)}: only ${PACKAGE_NAME} packages are published`);
  if (!arch || !arches.includes(arch))
    throw new PackageFileError(file, `architecture ${JSON.stringify(arch)}: published are ${arches.join(', ')}`);
  if (!version || !/^[A-Za-z0-9.+~:_-]+$/.test(version))
    throw new PackageFileError(file, `version ${JSON.stringify(version)} is not one the repository can serve`);
}

/** The package format a file name says, or null for other files. */
export function packageKind(file: string): 'deb' | 'rpm' | 'apk' | null {
  const m = /\.(deb|rpm|apk)$/.exec(file);
  return m ? (m[1] as 'deb' | 'rpm' | 'apk') : null;
}

/** Reads a package file; a PackageFileError says why it cannot be published. */
export async function readPublishedPackage(file: string): Promise<PublishedPackage> {
  const kind = packageKind(file);
  if (!kind) throw new PackageFileError(file, 'not a .deb, .rpm or .apk');
  const st = statSync(file);
  if (!st.isFile()) throw new PackageFileError(file, 'not a regular file');
  const base = { file, size: st.size, mtimeMs: st.mtimeMs };
  let pkg: PublishedPackage;
  if (kind === 'deb') {
    const control = await readDebControl(file);
    const version = control.get('Version');
    const arch = control.get('Architecture');
    check(file, control.get('Package'), arch, DEB_ARCHES, version);
    const upstream = version.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
    const name = `${PACKAGE_NAME}_${version.replace(/^\d+:/, '')}_${arch}.deb`;
    pkg = { ...base, kind, control, arch: arch!, version, upstream, name, sha256: '' };
  } else if (kind === 'rpm') {
    const rpm = readRpmFile(file);
    const h = rpm.header;
    const v = str(h, TAG.VERSION);
    const r = str(h, TAG.RELEASE);
    const arch = str(h, TAG.ARCH) ?? undefined;
    const version = v && r ? `${v}-${r}` : undefined;
    check(file, str(h, TAG.NAME) ?? undefined, arch, RPM_APK_ARCHES, version);
    pkg = {
      ...base,
      kind,
      rpm,
      arch: arch!,
      version,
      upstream: v!,
      name: `${PACKAGE_NAME}-${version}.${arch}.rpm`,
      sha256: '',
    };
  } else {
    const apk = await readApkFile(file);
    const version = apk.get('pkgver');
    const arch = apk.get('arch');
    check(file, apk.get('pkgname'), arch, RPM_APK_ARCHES, version);
    // apk fetches <repository>/<arch>/<name>-<version>.apk: the name has no architecture.
    pkg = {
      ...base,
      kind,
      apk,
      arch: arch!,
      version,
      upstream: version.replace(/-r\d+$/, ''),
      name: `${PACKAGE_NAME}-${version}.apk`,
      sha256: '',
    };
  }
  if (!SAFE_NAME.test(pkg.name)) throw new PackageFileError(file, `cannot serve it as ${JSON.stringify(pkg.name)}`);
  pkg.sha256 = (await fileDigests(file, ['sha256'])).sha256;
  return pkg;
}

/** A short description for logs and the publish command. */
export function describe(p: PublishedPackage): string {
  return `${basename(p.file)}: ${p.kind} ${PACKAGE_NAME} ${p.version} ${p.arch}`;
}
