// The package repositories the server publishes under /repo/ from one directory of package
// files: apt (dists/stable, pool/), dnf (repodata/, Packages/) and Alpine (<arch>/APKINDEX.tar.gz),
// each signed with the keys of signing-keys.ts. The metadata is built on demand and rebuilt when
// the directory changes (`patchloop server publish` adds a file; its name, size or time
// changes): a request compares the directory's listing with the one the snapshot was built from.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import { rpmvercmp } from '../../core/version/rpm.ts';
import { signedApkIndex } from './apk-index.ts';
import {
  APT_ARCHITECTURES,
  APT_COMPONENT,
  APT_SUITE,
  packagesIndex,
  packagesStanza,
  releaseFile,
} from './apt-metadata.ts';
import {
  describe,
  packageKind,
  readPublishedPackage,
  PACKAGE_NAME,
  type PublishedPackage,
} from './published-package.ts';
import { rpmRepodata } from './rpm-metadata.ts';
import { loadOrCreateSigningKeys, type RepoSigningKeys } from './signing-keys.ts';

/** Alpine architectures an index is always written for (empty when nothing is built for one). */
export const APK_ARCHITECTURES = ['x86_64', 'aarch64'] as const;

export interface RepoFile {
  type: string;
  /** Generated metadata, in memory. */
  body?: Buffer;
  /** A package, served from its file. */
  path?: string;
  size: number;
  /** Packages never change under their name; metadata does. */
  immutable: boolean;
}

export interface RepoSnapshot {
  /** Paths below /repo/ ("apt/dists/stable/InRelease"). */
  files: Map<string, RepoFile>;
  packages: PublishedPackage[];
  /** The newest upstream version published, or null when there is none. */
  latest: string | null;
  /** Files of the directory that are not published, with the reason. */
  skipped: string[];
}

export interface RepositoryOptions {
  packagesDir: string;
  dataDir: string;
  log: Logger;
  now?: () => number;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

const TEXT = 'text/plain; charset=utf-8';

export class PackageRepository {
  readonly packagesDir: string;
  private readonly dataDir: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private keysPromise: Promise<RepoSigningKeys> | null = null;
  private current: { listing: string; snapshot: RepoSnapshot } | null = null;
  private building: { listing: string; promise: Promise<RepoSnapshot> } | null = null;
  /** Parsed package files by path, size, time and inode: each file is read once. */
  private parsed = new Map<string, PublishedPackage | Error>();

  constructor(o: RepositoryOptions) {
    this.packagesDir = o.packagesDir;
    this.dataDir = o.dataDir;
    this.log = o.log;
    this.now = o.now ?? Date.now;
  }

  /** The signing keys, made on first use (the server asks right after it starts). */
  keys(): Promise<RepoSigningKeys> {
    if (!this.keysPromise) {
      this.keysPromise = loadOrCreateSigningKeys(this.dataDir).then((k) => {
        if (k.created)
          this.log.info(
            { fingerprint: k.fingerprint, apk_key: k.apkKeyName },
            'package repository signing keys created',
          );
        return k;
      });
      this.keysPromise.catch(() => (this.keysPromise = null));
    }
    return this.keysPromise;
  }

  /** The package files of the directory with what identifies their content: name, size, time, inode. */
  private listing(): { files: string[]; key: string } {
    if (!existsSync(this.packagesDir)) return { files: [], key: '' };
    const files: string[] = [];
    const key: string[] = [];
    for (const name of readdirSync(this.packagesDir).sort()) {
      if (!packageKind(name) || name.startsWith('.')) continue;
      const path = join(this.packagesDir, name);
      try {
        const st = statSync(path);
        if (!st.isFile()) continue;
        files.push(path);
        key.push(`${name}\0${st.size}\0${st.mtimeMs}\0${st.ino}`);
      } catch {
        // removed while listed: the next listing no longer has it
      }
    }
    return { files, key: key.join('\n') };
  }

  /** The current metadata, rebuilt first when the directory changed since it was built. */
  async snapshot(): Promise<RepoSnapshot> {
    const { files, key } = this.listing();
    if (this.current?.listing === key) return this.current.snapshot;
    if (this.building?.listing === key) return this.building.promise;
    const promise = this.build(files).then((snapshot) => {
      this.current = { listing: key, snapshot };
      return snapshot;
    });
    this.building = { listing: key, promise };
    try {
      return await promise;
    } finally {
      if (this.building?.promise === promise) this.building = null;
    }
  }

  private async read(path: string): Promise<PublishedPackage | Error> {
    const st = statSync(path);
    const id = `${path}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
    let p = this.parsed.get(id);
    if (!p) {
      p = await readPublishedPackage(path).catch((err: unknown) =>
        err instanceof Error ? err : new Error(String(err)),
      );
      this.parsed.set(id, p);
    }
    return p;
  }

  private async build(paths: string[]): Promise<RepoSnapshot> {
    const keys = await this.keys();
    const now = this.now();
    const packages: PublishedPackage[] = [];
    const skipped: string[] = [];
    const served = new Set<string>();
    const seen = new Set<string>();
    for (const path of paths) {
      const p = await this.read(path);
      if (p instanceof Error) {
        skipped.push(p.message);
      } else if (served.has(`${p.kind}/${p.arch}/${p.name}`)) {
        skipped.push(`${path}: the same package as another file (${p.name})`);
      } else {
        served.add(`${p.kind}/${p.arch}/${p.name}`);
        packages.push(p);
      }
      seen.add(path);
    }
    // Forget files that are gone.
    for (const id of this.parsed.keys()) if (!seen.has(id.split('\0')[0])) this.parsed.delete(id);

    const files = new Map<string, RepoFile>();
    const put = (path: string, body: Buffer | string, type = TEXT) => {
      const b = typeof body === 'string' ? Buffer.from(body) : body;
      files.set(path, { type, body: b, size: b.length, immutable: false });
    };
    const serve = (path: string, p: PublishedPackage, type: string) =>
      files.set(path, { type, path: p.file, size: p.size, immutable: true });
    const description = `${PACKAGE_NAME} packages`;
    put('key.asc', keys.publicKeyArmored, 'application/pgp-keys');

    // apt
    const debs = packages.filter((p): p is Extract<PublishedPackage, { kind: 'deb' }> => p.kind === 'deb');
    const indexes: { path: string; size: number; sha256: string }[] = [];
    for (const arch of APT_ARCHITECTURES) {
      const stanzas = debs
        .filter((p) => p.arch === arch)
        .map((p) => {
          const filename = `pool/${APT_COMPONENT}/p/${PACKAGE_NAME}/${p.name}`;
          serve(`apt/${filename}`, p, 'application/vnd.debian.binary-package');
          return packagesStanza(p.control, { filename, size: p.size, sha256: p.sha256 });
        });
      const plain = Buffer.from(packagesIndex(stanzas));
      const gz = gzipSync(plain, { level: 9 });
      for (const [name, body] of [
        ['Packages', plain],
        ['Packages.gz', gz],
      ] as const) {
        const path = `${APT_COMPONENT}/binary-${arch}/${name}`;
        put(`apt/dists/${APT_SUITE}/${path}`, body, name.endsWith('.gz') ? 'application/gzip' : TEXT);
        indexes.push({ path, size: body.length, sha256: sha256(body) });
      }
    }
    const release = releaseFile({ now, description, indexes });
    put(`apt/dists/${APT_SUITE}/Release`, release);
    put(`apt/dists/${APT_SUITE}/InRelease`, await keys.clearSign(release));
    put(`apt/dists/${APT_SUITE}/Release.gpg`, await keys.detachSign(Buffer.from(release)), 'application/pgp-signature');

    // dnf
    const rpms = packages.filter((p): p is Extract<PublishedPackage, { kind: 'rpm' }> => p.kind === 'rpm');
    const repodata = rpmRepodata(
      rpms.map((p) => {
        const href = `Packages/${p.name}`;
        serve(`rpm/${href}`, p, 'application/x-rpm');
        return { rpm: p.rpm, href, size: p.size, sha256: p.sha256, mtime: Math.floor(p.mtimeMs / 1000) };
      }),
      now,
    );
    for (const f of repodata.files) put(`rpm/${f.path}`, f.body, 'application/gzip');
    put('rpm/repodata/repomd.xml', repodata.repomd, 'application/xml');
    put('rpm/repodata/repomd.xml.asc', await keys.detachSign(repodata.repomd), 'application/pgp-signature');

    // Alpine
    put(`apk/${keys.apkKeyName}`, keys.apkPublicKeyPem, 'application/x-pem-file');
    for (const arch of APK_ARCHITECTURES) {
      const apks = packages.filter(
        (p): p is Extract<PublishedPackage, { kind: 'apk' }> => p.kind === 'apk' && p.arch === arch,
      );
      for (const p of apks) serve(`apk/${arch}/${p.name}`, p, 'application/octet-stream');
      const index = await signedApkIndex(
        apks.map((p) => ({ pkg: p.apk, size: p.size })),
        { description, keyName: keys.apkKeyName, sign: keys.apkSign, now },
      );
      put(`apk/${arch}/APKINDEX.tar.gz`, index, 'application/gzip');
    }

    const latest =
      packages
        .map((p) => p.upstream)
        .sort(rpmvercmp)
        .at(-1) ?? null;
    for (const s of skipped) this.log.warn({ reason: s }, 'package file not published');
    this.log.info({ packages: packages.map(describe), latest }, 'package repository metadata built');
    return { files, packages, latest, skipped };
  }
}
