// The keys that sign the server's package repositories, made on the first start and kept in the
// data directory (repo-keys/, private files 0600):
// - an OpenPGP key (RSA 3072, OpenPGP.js) for the apt Release files and dnf's repomd.xml, whose
//   public half hosts pin (apt signed-by=, dnf gpgkey=);
// - an RSA key (node:crypto, PKCS#1 v1.5 with SHA-256) for Alpine's APKINDEX, in the PEM form
//   apk-tools reads from /etc/apk/keys/<name>.rsa.pub.
// RSA, not Ed25519, for the OpenPGP key: every supported host's verifier takes it (gpgv on
// Debian 10 and newer, sqv, GnuPG in librepo on RHEL 8), and apk knows only RSA.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSingleExecutable } from '../../project-root.ts';

export interface RepoSigningKeys {
  /** The OpenPGP public key, ASCII-armored (served at /repo/key.asc). */
  publicKeyArmored: string;
  /** Its fingerprint, upper-case hex. */
  fingerprint: string;
  /** Clear-signs a text (apt's InRelease). */
  clearSign(text: string): Promise<string>;
  /** An ASCII-armored detached signature (Release.gpg, repomd.xml.asc). */
  detachSign(data: Uint8Array): Promise<string>;
  /** The apk key's file name as apk looks it up in /etc/apk/keys (`patchloop-<hash>.rsa.pub`). */
  apkKeyName: string;
  /** The apk public key, PEM (SubjectPublicKeyInfo). */
  apkPublicKeyPem: string;
  /** RSA PKCS#1 v1.5 signature over SHA-256 of `data`, as apk-tools checks `.SIGN.RSA256.*`. */
  apkSign(data: Uint8Array): Buffer;
}

const DIR = 'repo-keys';
const PGP_PRIVATE = 'openpgp-private.asc';
const PGP_PUBLIC = 'openpgp-public.asc';
const APK_PRIVATE = 'apk-private.pem';
const APK_PUBLIC = 'apk-public.pem';

/** Writes a file whole or not at all, with its mode from the start. */
function writeAtomically(file: string, data: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode, flag: 'w' });
  renameSync(tmp, file);
}

/**
 * OpenPGP.js as the running build can load it. The single executable is one CommonJS bundle:
 * there `require` resolves (and esbuild bundles) openpgp's CommonJS build, since its ES module
 * build needs import.meta.url, which CommonJS does not have. The sources and the ES module
 * bundles (bin/patchloop, the Alpine package) import the ES module.
 */
async function loadOpenpgp(): Promise<typeof import('openpgp')> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return isSingleExecutable() ? (require('openpgp') as typeof import('openpgp')) : import('openpgp');
}

/** The directory of the keys below a data directory. */
export function signingKeyDir(dataDir: string): string {
  return join(dataDir, DIR);
}

/**
 * Loads the repository keys of a data directory, making whichever is missing. A key pair is
 * written private half first, each file atomically, so an interrupted start leaves either no
 * key or a whole one (a private half without its public half is completed from it).
 */
export async function loadOrCreateSigningKeys(dataDir: string): Promise<RepoSigningKeys & { created: boolean }> {
  const openpgp = await loadOpenpgp();
  const dir = signingKeyDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let created = false;

  const pgpPrivateFile = join(dir, PGP_PRIVATE);
  if (!existsSync(pgpPrivateFile)) {
    const { privateKey } = await openpgp.generateKey({
      type: 'rsa',
      rsaBits: 3072,
      userIDs: [{ name: 'patchloop package repository' }],
      format: 'armored',
    });
    writeAtomically(pgpPrivateFile, privateKey, 0o600);
    created = true;
  }
  const privateKey = await openpgp.readPrivateKey({ armoredKey: readFileSync(pgpPrivateFile, 'utf8') });
  const publicKeyArmored = privateKey.toPublic().armor();
  const pgpPublicFile = join(dir, PGP_PUBLIC);
  if (!existsSync(pgpPublicFile) || readFileSync(pgpPublicFile, 'utf8') !== publicKeyArmored)
    writeAtomically(pgpPublicFile, publicKeyArmored, 0o644);

  const apkPrivateFile = join(dir, APK_PRIVATE);
  if (!existsSync(apkPrivateFile)) {
    const { privateKey: pem } = generateKeyPairSync('rsa', {
      modulusLength: 3072,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeAtomically(apkPrivateFile, pem, 0o600);
    created = true;
  }
  const apkPrivate = createPrivateKey(readFileSync(apkPrivateFile, 'utf8'));
  const apkPublicKeyPem = createPublicKey(apkPrivate).export({ type: 'spki', format: 'pem' }).toString();
  const apkPublicFile = join(dir, APK_PUBLIC);
  if (!existsSync(apkPublicFile) || readFileSync(apkPublicFile, 'utf8') !== apkPublicKeyPem)
    writeAtomically(apkPublicFile, apkPublicKeyPem, 0o644);
  // One name per key, so hosts of two servers keep both keys side by side in /etc/apk/keys.
  const apkKeyName = `patchloop-${createHash('sha256').update(apkPublicKeyPem).digest('hex').slice(0, 12)}.rsa.pub`;

  return {
    created,
    publicKeyArmored,
    fingerprint: privateKey.getFingerprint().toUpperCase(),
    // OpenPGP.js writes the signed text with CRLF line ends; apt (and Debian's own InRelease)
    // expect LF. The signature is over the canonical (CRLF) form either way, so both verify.
    clearSign: async (text) =>
      (
        await openpgp.sign({ message: await openpgp.createCleartextMessage({ text }), signingKeys: privateKey })
      ).replace(/\r\n/g, '\n'),
    detachSign: async (data) =>
      openpgp.sign({
        message: await openpgp.createMessage({ binary: data }),
        signingKeys: privateKey,
        detached: true,
        format: 'armored',
      }),
    apkKeyName,
    apkPublicKeyPem,
    apkSign: (data) => sign('sha256', data, apkPrivate),
  };
}
