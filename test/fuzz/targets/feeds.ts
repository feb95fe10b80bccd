// Fuzz targets: the vulnerability feeds in their publishers' formats, each imported from a
// file through the feed's own import function (the path `db update --from` takes), except
// the list and XML parsers, which are driven directly.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../../src/feeds/archive.ts';
import { importAlpine } from '../../../src/feeds/alpine/index.ts';
import { parseAdvisoryList } from '../../../src/feeds/debian/advisory-list.ts';
import { importDebian } from '../../../src/feeds/debian/index.ts';
import { expandPattern, parseSupportEnded, parseSupportLimited } from '../../../src/feeds/debian/support-lists.ts';
import { parseDpkgStatus } from '../../../src/inventory/dpkg.ts';
import { DebianInputError } from '../../../src/feeds/debian/inputs.ts';
import { TrackerFormatError } from '../../../src/feeds/debian/tracker-stream.ts';
import { importOsv } from '../../../src/feeds/osv/import.ts';
import { parseUpdateinfo, UpdateinfoError } from '../../../src/feeds/common/updateinfo.ts';
import { importRedHat } from '../../../src/feeds/redhat/index.ts';
import { importUbuntu } from '../../../src/feeds/ubuntu/index.ts';
import { REPO_ROOT, SHARED_DATA } from '../../support/paths.ts';
import { CollectingWriter, filesUnder, invariant, seedFile, text, writeInput, type FuzzTarget } from './common.ts';

const FEEDS = path.join(SHARED_DATA, 'feeds');
const isJson = (f: string): boolean => f.endsWith('.json');

export const debianTracker: FuzzTarget = {
  name: 'debian-tracker',
  kind: 'json',
  seeds: () => [
    seedFile(path.join(FEEDS, 'debian/tracker-json-sample/debian.json')),
    seedFile(path.join(REPO_ROOT, 'test/fixtures/debian/bookworm-host-tracker.json')),
  ],
  dictionary: [
    '"releases"',
    '"status"',
    '"resolved"',
    '"open"',
    '"fixed_version"',
    '"urgency"',
    '"nodsa_reason"',
    '"bookworm"',
    '"CVE-2024-1"',
    '{"',
    '":{',
    '}}',
  ],
  async run(input, scratch) {
    const file = await writeInput(scratch, 'tracker.json', input);
    const out = new CollectingWriter();
    const stats = await importDebian([file], out, { now: new Date('2026-01-01T00:00:00Z') });
    invariant(stats.entries === out.entries, () => `${stats.entries} entries counted, ${out.entries} written`);
    return stats;
  },
  clear: [TrackerFormatError, DebianInputError],
};

export const debianAdvisoryList: FuzzTarget = {
  name: 'debian-advisory-list',
  kind: 'text',
  seeds: () => [
    seedFile(path.join(FEEDS, 'debian/tracker-json-sample/DSA-list-excerpt')),
    ...['DSA', 'DLA'].map((d) => seedFile(path.join(FEEDS, `debian/tracker-lists/data/${d}/list`))),
    ...['DSA', 'DLA', 'DTSA'].map((d) => seedFile(path.join(FEEDS, `debian/tracker-lists-2023/${d}/list`), 32 << 10)),
  ],
  dictionary: [
    '[01 Aug 2002] DSA-1-1 pkg - x\n',
    '\t{CVE-2024-0001}\n',
    '\t[bookworm] - pkg 1.0-1\n',
    'NOTE: ',
    '<not-affected>',
    'TEMP-0000000-ABCDEF',
  ],
  run(input) {
    const fixes = parseAdvisoryList(text(input), 'list', () => {});
    for (const f of fixes)
      invariant(
        f.advisory !== '' && f.package !== '' && f.version !== '',
        () => `a fix with empty fields: ${JSON.stringify(f)}`,
      );
    return fixes.length;
  },
  clear: [],
};

/** Source package names a support list's patterns are matched against: those of the real bookworm host. */
let sourceNames: string[] | null = null;
function knownSources(): string[] {
  if (sourceNames === null) {
    const file = path.join(SHARED_DATA, 'pkgdb/dpkg/bookworm-host/var/lib/dpkg/status');
    const parsed = parseDpkgStatus(readFileSync(file, 'utf8'), file, 'status');
    sourceNames = [...new Set(parsed.records.map((r) => r.pkg.source))].sort();
  }
  return sourceNames;
}

export const debianSupportLists: FuzzTarget = {
  name: 'debian-support-lists',
  kind: 'text',
  seeds: () =>
    filesUnder(path.join(FEEDS, 'debian/security-support-lists'), (f) =>
      /security-support-(ended|limited)/.test(f),
    ).map((f) => seedFile(f, 32 << 10)),
  dictionary: ['golang.*', 'node-.*', '.*', '(', ')', '+', '?', '|', '[a-z]', '\\d', '2026-01-31', '0'],
  run(input) {
    // As importDebian reads them: column 1 of each row is a pattern over the known source names.
    const t = text(input);
    const warn = (): void => {};
    const patterns = [...parseSupportEnded(t, 'security-support-ended.deb12', warn), ...parseSupportLimited(t)].map(
      (r) => r.pattern,
    );
    let names = 0;
    for (const p of patterns) names += expandPattern(p, knownSources(), 'list', warn)?.length ?? 0;
    return names;
  },
  clear: [],
};

export const osvRecords: FuzzTarget = {
  name: 'osv',
  kind: 'json',
  seeds: () => [
    ...filesUnder(path.join(FEEDS, 'ubuntu/osv'), isJson).map((f) => seedFile(f)),
    ...filesUnder(path.join(FEEDS, 'rocky'), isJson).map((f) => seedFile(f)),
    ...filesUnder(path.join(FEEDS, 'redhat/csaf-osv-pairs/OSV'), isJson).map((f) => seedFile(f)),
    ...filesUnder(path.join(FEEDS, 'osv/linter-samples'), isJson).map((f) => seedFile(f)),
    ...['almalinux8', 'almalinux9', 'almalinux10'].flatMap((r) =>
      filesUnder(path.join(FEEDS, 'almalinux/osv', r), isJson)
        .slice(0, 3)
        .map((f) => seedFile(f)),
    ),
  ],
  dictionary: [
    '"affected"',
    '"ranges"',
    '"events"',
    '"introduced"',
    '"fixed"',
    '"last_affected"',
    '"ECOSYSTEM"',
    '"Ubuntu:22.04:LTS"',
    '"AlmaLinux:9"',
    '"Rocky Linux:8"',
    '"Debian:12"',
    '"Alpine:v3.18"',
    '"Red Hat:enterprise_linux:9::appstream"',
  ],
  async run(input, scratch) {
    const file = await writeInput(scratch, 'record.json', input);
    const out = new CollectingWriter();
    return importOsv([file], out, { feed: 'osv', acceptTarget: () => true, consolidate: 'global' });
  },
  clear: [InputError],
};

export const ubuntu: FuzzTarget = {
  name: 'ubuntu',
  kind: 'json',
  seeds: () =>
    ['ubuntu/osv', 'ubuntu/vex', 'ubuntu/osv-esm-cases'].flatMap((d) =>
      filesUnder(path.join(FEEDS, d), isJson).map((f) => seedFile(f)),
    ),
  dictionary: [
    '"statements"',
    '"products"',
    '"status"',
    '"not_affected"',
    '"affected"',
    '"fixed"',
    '"under_investigation"',
    '"pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.24?arch=source&distro=jammy"',
    '"Ubuntu:Pro:16.04:LTS"',
    '"availability"',
  ],
  async run(input, scratch) {
    // OSV records and OpenVEX documents both, as the Ubuntu feed reads them.
    const file = await writeInput(scratch, 'record.json', input);
    return importUbuntu([file], new CollectingWriter());
  },
  clear: [InputError],
};

export const updateinfo: FuzzTarget = {
  name: 'updateinfo',
  kind: 'text',
  seeds: () => [seedFile(path.join(FEEDS, 'rocky/updateinfo/updateinfo.xml'))],
  dictionary: [
    '<update type="security">',
    '</update>',
    '<id>RLSA-2024:1</id>',
    '<reference type="cve" id="CVE-2024-1"/>',
    '<collection>',
    '<module name="m" stream="1"/>',
    '<package name="p" epoch="0" version="1" release="1.el8" arch="x86_64">',
    '<release>Rocky Linux 8</release>',
    '<![CDATA[',
    ']]>',
    '&lt;',
  ],
  run(input) {
    const r = parseUpdateinfo(text(input), { feed: 'rocky', distro: 'rocky', defaultRelease: '8' });
    for (const e of r.entries)
      invariant(
        e.fixed_version !== null && e.fixed_version !== '',
        () => `an updateinfo entry without a fixed version: ${JSON.stringify(e)}`,
      );
    return r.entries.length;
  },
  clear: [UpdateinfoError],
};

export const redhatCsaf: FuzzTarget = {
  name: 'redhat-csaf',
  kind: 'json',
  seeds: () => [
    ...filesUnder(path.join(FEEDS, 'redhat/csaf'), isJson)
      .filter((f) => !/rhsa-202[34]_(0811|1431|3821|7025)/.test(f))
      .map((f) => seedFile(f)),
    seedFile(path.join(FEEDS, 'redhat/csaf-osv-pairs/CSAF/rhsa-2024_4546.json')),
  ],
  dictionary: [
    '"product_tree"',
    '"branches"',
    '"relationships"',
    '"product_status"',
    '"fixed"',
    '"known_affected"',
    '"remediations"',
    '"pkg:rpm/redhat/bind@9.16.23-5.el9_1?arch=x86_64&epoch=32"',
    '"cpe:/a:redhat:enterprise_linux:9::appstream"',
    '"default_component_of"',
  ],
  weight: 0.5,
  async run(input, scratch) {
    const file = await writeInput(scratch, 'document.json', input);
    return importRedHat([file], new CollectingWriter());
  },
  clear: [InputError],
};

const alpineImport = (name: string) => async (input: Uint8Array, scratch: string) => {
  const file = await writeInput(scratch, name, input);
  return importAlpine([file], new CollectingWriter());
};

export const alpineSecdbJson: FuzzTarget = {
  name: 'alpine-secdb-json',
  kind: 'json',
  seeds: () => filesUnder(path.join(FEEDS, 'alpine/secdb-json')).map((f) => seedFile(f)),
  dictionary: [
    '"distroversion"',
    '"v3.18"',
    '"edge"',
    '"packages"',
    '"pkg"',
    '"secfixes"',
    '"1.2.3-r0"',
    '"CVE-2024-0001"',
    '"0"',
  ],
  run: alpineImport('main.json'),
  clear: [InputError],
};

export const alpineSecdbYaml: FuzzTarget = {
  name: 'alpine-secdb-yaml',
  kind: 'text',
  seeds: () => filesUnder(path.join(FEEDS, 'alpine/secdb-yaml')).map((f) => seedFile(f)),
  dictionary: [
    'distroversion: v3.15\n',
    'packages:\n',
    '  - pkg:\n',
    '      name: x\n',
    '      secfixes:\n',
    '        1.0-r0:\n',
    '          - CVE-2024-0001\n',
    '&a ',
    '*a',
    '!!binary ',
    '!!str ',
    '? ',
    '- ',
    '{',
    '[',
    '|',
    '>',
  ],
  // The YAML library takes some milliseconds per kilobyte of a damaged document.
  weight: 0.5,
  run: alpineImport('main.yaml'),
  clear: [InputError],
};

export const feedTargets: FuzzTarget[] = [
  debianTracker,
  debianAdvisoryList,
  debianSupportLists,
  osvRecords,
  ubuntu,
  updateinfo,
  redhatCsaf,
  alpineSecdbJson,
  alpineSecdbYaml,
];
