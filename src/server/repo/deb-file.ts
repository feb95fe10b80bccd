// A .deb as the apt repository needs it: the control file of its control.tar member (an ar
// archive: debian-binary, control.tar[.gz|.zst], data.tar.*), read without unpacking the data.
// control.tar.xz is refused by name: Node.js has no xz decoder, and patchloop's own packages
// (nfpm) carry control.tar.gz.
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { unpackTar } from 'modern-tar';
import { PackageFileError, readAt, withFile } from './package-file.ts';

const AR_MAGIC = '!<arch>\n';
const AR_HEADER = 60;

export interface DebControl {
  /** The control file's fields in their order, values as written (continuation lines kept). */
  fields: [string, string][];
  /** A field by name (case-insensitive), or undefined. */
  get(name: string): string | undefined;
}

/** Parses a deb822 stanza (the control file) into its fields. */
export function parseControl(text: string, file: string): DebControl {
  const fields: [string, string][] = [];
  for (const line of text.replace(/\n+$/, '').split('\n')) {
    if (/^[ \t]/.test(line)) {
      if (fields.length === 0) throw new PackageFileError(file, 'control file starts with a continuation line');
      fields[fields.length - 1][1] += `\n${line}`;
      continue;
    }
    const m = /^([!-9;-~][!-9;-~]*):[ \t]*(.*)$/.exec(line);
    if (!m) throw new PackageFileError(file, `control file line ${JSON.stringify(line.slice(0, 80))} is not a field`);
    fields.push([m[1], m[2].trimEnd()]);
  }
  const byName = new Map(fields.map(([k, v]) => [k.toLowerCase(), v]));
  return { fields, get: (name) => byName.get(name.toLowerCase()) };
}

function decompress(name: string, data: Buffer, file: string): Uint8Array {
  if (name === 'control.tar') return data;
  if (name === 'control.tar.gz') return gunzipSync(data);
  if (name === 'control.tar.zst') return zstdDecompressSync(data);
  throw new PackageFileError(
    file,
    `${name}: only control.tar, control.tar.gz and control.tar.zst can be read (rebuild the package with a gzip control member)`,
  );
}

/** The control file of a .deb. */
export async function readDebControl(file: string): Promise<DebControl> {
  const member = withFile(file, (fd) => {
    if (readAt(fd, 0, AR_MAGIC.length).toString('latin1') !== AR_MAGIC)
      throw new PackageFileError(file, 'not a .deb (no ar archive signature)');
    let offset = AR_MAGIC.length;
    for (let i = 0; i < 3; i++) {
      const header = readAt(fd, offset, AR_HEADER);
      if (header.length < AR_HEADER || header.toString('latin1', 58, 60) !== '`\n')
        throw new PackageFileError(file, `malformed ar member header at byte ${offset}`);
      const name = header.toString('latin1', 0, 16).trim().replace(/\/$/, '');
      const size = Number(header.toString('latin1', 48, 58).trim());
      if (!Number.isSafeInteger(size) || size < 0) throw new PackageFileError(file, `ar member ${name}: bad size`);
      if (name.startsWith('control.tar')) {
        if (size > 64 * 1024 * 1024)
          throw new PackageFileError(file, `${name} is ${size} bytes, too large for a control member`);
        const data = readAt(fd, offset + AR_HEADER, size);
        if (data.length !== size) throw new PackageFileError(file, `${name} is cut short`);
        return { name, data };
      }
      offset += AR_HEADER + size + (size % 2);
    }
    throw new PackageFileError(file, 'no control.tar member among the first three ar members');
  });
  const entries = await unpackTar(decompress(member.name, member.data, file));
  const control = entries.find((e) => e.header.name.replace(/^\.\//, '') === 'control' && e.data);
  if (!control?.data) throw new PackageFileError(file, `${member.name} holds no control file`);
  return parseControl(new TextDecoder().decode(control.data), file);
}
