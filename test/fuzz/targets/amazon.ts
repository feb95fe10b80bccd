// Fuzz targets: the Amazon Linux 2023 feed as `db update --source amazon --from FILE` drives it
// (updateinfo.xml through importAmazon), and the repository metadata its downloads are followed
// through (repomd.xml, mirror lists).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { importAmazon } from '../../../src/feeds/amazon/index.ts';
import { InputError } from '../../../src/feeds/archive.ts';
import {
  followRepository,
  parseMirrorList,
  RepodataError,
  updateinfoRecord,
} from '../../../src/feeds/common/repodata.ts';
import { REPO_ROOT, SHARED_DATA } from '../../support/paths.ts';
import { CollectingWriter, filesUnder, invariant, seedFile, text, writeInput, type FuzzTarget } from './common.ts';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/amazon');
const REPODATA = path.join(FIXTURE, 'repo-aarch64/repodata');

export const amazonUpdateinfo: FuzzTarget = {
  name: 'amazon-updateinfo',
  kind: 'text',
  seeds: () => [
    seedFile(path.join(FIXTURE, 'updateinfo.xml')),
    ...filesUnder(REPODATA, (f) => f.endsWith('-updateinfo.xml.gz')).map((f) => ({
      name: path.relative(REPO_ROOT, f),
      bytes: gunzipSync(readFileSync(f)),
    })),
    // Rocky's real file: updates of another distribution, refused as a whole.
    seedFile(path.join(SHARED_DATA, 'feeds/rocky/updateinfo/updateinfo.xml')),
  ],
  dictionary: [
    '<update author="linux-security@amazon.com" from="linux-security@amazon.com" status="final" type="security" version="1.4">',
    '</update>',
    '<id>ALAS2023-2024-1</id>',
    '<id>ALAS2-2024-1</id>',
    '<severity>Important</severity>',
    '<severity>Medium</severity>',
    '<reference href="x" id="CVE-2024-1" title="" type="cve" />',
    '<collection short="amazon-linux-2023">',
    '<package arch="x86_64" epoch="1" name="p" release="1.amzn2023.0.1" version="1">',
    '<package arch="noarch" epoch="" name="p" release="" version="1">',
    '<![CDATA[',
    ']]>',
    '&lt;',
    '<?xml version="1.0" ?>',
  ],
  async run(input, scratch) {
    const file = await writeInput(scratch, 'updateinfo.xml', input);
    const out = new CollectingWriter();
    const summary = await importAmazon([file], out);
    invariant(summary.entries === out.entries, () => `${summary.entries} entries counted, ${out.entries} written`);
    invariant(summary.advisories > 0, () => 'an import without an ALAS2023 advisory was not refused');
    return summary;
  },
  clear: [InputError],
};

const REPOMD_URL = 'https://cdn.example/al2023/core/guids/0/x86_64/repodata/repomd.xml';

export const repodata: FuzzTarget = {
  name: 'repodata',
  kind: 'text',
  seeds: () => [
    seedFile(path.join(REPODATA, 'repomd.xml')),
    seedFile(path.join(SHARED_DATA, 'feeds/rocky/updateinfo/repomd.xml')),
    {
      name: 'mirror.list',
      bytes: Buffer.from('# mirrors\nhttps://cdn.amazonlinux.com/al2023/core/guids/3f2a/x86_64/\n'),
    },
  ],
  dictionary: [
    '<data type="updateinfo">',
    '</data>',
    '<location href="repodata/x-updateinfo.xml.gz"/>',
    '<checksum type="sha256">',
    '</checksum>',
    '<repomd>',
    'https://',
    'http://',
    'file:///',
    '../',
    '#',
  ],
  async run(input, scratch) {
    // Both parsers on every input, then the follow step as update.ts takes it on a downloaded file.
    const parsed: unknown[] = [];
    for (const parse of [() => updateinfoRecord(text(input)), () => parseMirrorList(text(input))]) {
      try {
        parsed.push(parse());
      } catch (err) {
        if (!(err instanceof RepodataError)) throw err;
      }
    }
    const next = await followRepository({ url: REPOMD_URL, path: await writeInput(scratch, 'download', input) });
    invariant(
      next === null || (next.length === 1 && next[0].startsWith('https://')),
      () => `followed from https to ${JSON.stringify(next)}`,
    );
    return parsed.length;
  },
  clear: [RepodataError],
};

export const amazonTargets: FuzzTarget[] = [amazonUpdateinfo, repodata];
