// Conformance of the version schemes with the package managers themselves: every vector in
// shared/data/version-vectors (gathered from dpkg, apt, rpm, apk-tools and other projects'
// test suites), then versions generated here, cross-checked with the real dpkg and rpm.
// The vectors' known odd cases are listed below by exact pair, each with the rule that
// explains it; everything else must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { getScheme, InvalidVersionError, SCHEME_NAMES } from '../src/core/version/index.ts';
import type { VersionSchemeName } from '../src/core/types.ts';
import { rpmvercmp } from '../src/core/version/rpm.ts';
import { apkVersionCompareUnchecked } from '../src/core/version/apk.ts';
import { debVersion, rpmEvr, rpmField } from './support/version-arbitraries.ts';

const VECTORS = new URL('../../shared/data/version-vectors/', import.meta.url);

type Expected = -1 | 0 | 1 | 'invalid';

interface Vector {
  a: string;
  b: string;
  expected: Expected;
  /** `file:line`, for messages. */
  where: string;
  /** The `# source:` comment the vector sits under. */
  source: string;
}

function loadVectors(scheme: VersionSchemeName): Vector[] {
  const file = new URL(`${scheme}.tsv`, VECTORS);
  const vectors: Vector[] = [];
  let source = '';
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const where = `${scheme}.tsv:${i + 1}`;
      if (line.startsWith('# source:')) source = line.slice('# source:'.length).trim();
      if (line === '' || line.startsWith('#')) return;
      const fields = line.split('\t');
      if (fields.length !== 3)
        throw new Error(`${where}: expected left<TAB>right<TAB>expected, got ${fields.length} field(s)`);
      const [a, b, e] = fields;
      const expected = e === 'invalid' || e === 'error' ? 'invalid' : Number(e);
      if (expected !== 'invalid' && expected !== -1 && expected !== 0 && expected !== 1) {
        throw new Error(`${where}: expected result ${JSON.stringify(e)} is not -1, 0, 1 or invalid`);
      }
      vectors.push({ a, b, expected, where, source });
    });
  if (vectors.length === 0) throw new Error(`${file.pathname}: no vectors`);
  return vectors;
}

function run(scheme: VersionSchemeName, a: string, b: string): Expected {
  try {
    return getScheme(scheme).compare(a, b);
  } catch (err) {
    if (err instanceof InvalidVersionError) return 'invalid';
    throw err;
  }
}

function hyphens(s: string): number {
  return s.split('-').length - 1;
}

interface OddCases {
  /** Why these vectors and the scheme differ. */
  why: string;
  pairs: [string, string][];
  /** What must hold for each of them instead. */
  check(v: Vector, got: Expected): void;
}

const ODD: Record<VersionSchemeName, OddCases> = {
  deb: {
    why: "apt's test uses a bare '-' as a whole version; dpkg refuses it (revision number is empty)",
    pairs: [
      ['-', '.'],
      ['p', '-'],
      ['a', '-'],
      ['z', '-'],
    ],
    check(v, got) {
      assert.equal(got, 'invalid', v.where);
      assert.match(getScheme('deb').validate('-') ?? '', /revision number is empty/);
    },
  },
  rpm: {
    why:
      'go-rpm-version tests rpmvercmp on single fields, with empty strings and several hyphens; ' +
      'as whole EVRs, rpm refuses the empty string and splits the release off at the last hyphen',
    pairs: [
      ['', ''],
      ['', '0'],
      ['', '1'],
      ['', '2'],
      ['', '10'],
      ['', '100'],
      ['', '0.0'],
      ['', '0.1'],
      ['', '0.10'],
      ['', '0.99'],
      ['', '1.0'],
      ['', '1.99'],
      ['', '2.0'],
      ['', '0.0.0'],
      ['', '0.0.1'],
      ['', '0.0.2'],
      ['', '0.0.10'],
      ['', '0.0.99'],
      ['', '0.1.0'],
      ['', '0.2.0'],
      ['', '0.10.0'],
      ['', '0.99.0'],
      ['', '0.100.0'],
      ['', '0.0.0.0'],
      ['', '0.0.0.1'],
      ['', '0.0.0.10'],
      ['', '0.0.1.0'],
      ['', '0.0.01.0'],
      ['', '1.2.3.4'],
      ['', '1-2-3-4'],
      ['', '20150101'],
      ['', '20151212'],
      ['', '20151212.0'],
      ['', '20151212.1'],
      ['', '2015.1.1'],
      ['', '2015.02.02'],
      ['', '2015.12.12'],
      ['', '1.2.3a'],
      ['', '1.2.3b'],
      ['', 'R16B'],
      ['', 'R16C'],
      ['', '1.2.3.2016.1.1'],
      ['', '0.5a1.dev'],
      ['', '1.8.B59BrZX'],
      ['', '0.07b4p1'],
      ['', '3.99.5final.SP07'],
      ['', '3.99.5final.SP08'],
      ['', '0.4.tbb.20100203'],
      ['', '0.5.20120830CVS.el7'],
      ['', '1.el7'],
      ['', '1.el6'],
      ['', '10.el7'],
      ['', '01.el7'],
      ['', '0.17.20140318svn632.el7'],
      ['', '0.17.20140318svn633.el7'],
      ['', '1.20140522gitad6fb3e.el7'],
      ['', '1.20140522hitad6fb3e.el7'],
      ['', '8.20140605hgacf1c26e3019.el7'],
      ['', '8.20140605hgacf1c26e3029.el7'],
      ['', '22.svn457.el7'],
      ['', '22.svn458.el7'],
      ['', '~'],
      ['', '~~'],
      ['', '~1'],
      ['', '~a'],
      ['', '1~'],
      ['', '2~'],
      ['0', ''],
      ['1', ''],
      ['2', ''],
      ['10', ''],
      ['100', ''],
      ['0.0', ''],
      ['0.1', ''],
      ['0.10', ''],
      ['0.99', ''],
      ['1.0', ''],
      ['1.99', ''],
      ['2.0', ''],
      ['0.0.0', ''],
      ['0.0.1', ''],
      ['0.0.2', ''],
      ['0.0.10', ''],
      ['0.0.99', ''],
      ['0.1.0', ''],
      ['0.2.0', ''],
      ['0.10.0', ''],
      ['0.99.0', ''],
      ['0.100.0', ''],
      ['0.0.0.0', ''],
      ['0.0.0.1', ''],
      ['0.0.0.10', ''],
      ['0.0.1.0', ''],
      ['0.0.01.0', ''],
      ['1.2.3.4', ''],
      ['1.2.3.4', '1-2-3-4'],
      ['1-2-3-4', ''],
      ['1-2-3-4', '1.2.3.4'],
      ['1-2-3-4', '1.2.3a'],
      ['1-2-3-4', '1.2.3b'],
      ['20150101', ''],
      ['20151212', ''],
      ['20151212.0', ''],
      ['20151212.1', ''],
      ['2015.1.1', ''],
      ['2015.02.02', ''],
      ['2015.12.12', ''],
      ['1.2.3a', ''],
      ['1.2.3a', '1-2-3-4'],
      ['1.2.3b', ''],
      ['1.2.3b', '1-2-3-4'],
      ['R16B', ''],
      ['R16C', ''],
      ['1.2.3.2016.1.1', ''],
      ['0.5a1.dev', ''],
      ['1.8.B59BrZX', ''],
      ['0.07b4p1', ''],
      ['3.99.5final.SP07', ''],
      ['3.99.5final.SP08', ''],
      ['0.4.tbb.20100203', ''],
      ['0.5.20120830CVS.el7', ''],
      ['1.el7', ''],
      ['1.el6', ''],
      ['10.el7', ''],
      ['01.el7', ''],
      ['0.17.20140318svn632.el7', ''],
      ['0.17.20140318svn633.el7', ''],
      ['1.20140522gitad6fb3e.el7', ''],
      ['1.20140522hitad6fb3e.el7', ''],
      ['8.20140605hgacf1c26e3019.el7', ''],
      ['8.20140605hgacf1c26e3029.el7', ''],
      ['22.svn457.el7', ''],
      ['22.svn458.el7', ''],
      ['~', ''],
      ['~~', ''],
      ['~1', ''],
      ['~a', ''],
      ['1~', ''],
      ['2~', ''],
    ],
    check(v) {
      assert.ok(
        v.a === '' || v.b === '' || hyphens(v.a) >= 2 || hyphens(v.b) >= 2,
        `${v.where}: not an empty or multi-hyphen pair`,
      );
      assert.equal(rpmvercmp(v.a, v.b), v.expected, `${v.where}: rpmvercmp on the single fields`);
    },
  },
  apk: {
    why:
      'apk-tools refuses one of the two versions (apk version -t prints nothing); the vectors come ' +
      "from tests of apk's internal comparison, which orders up to the first invalid token, and " +
      "from osv-scalibr's own handling of invalid strings",
    pairs: [
      ['23_foo', '4_beta'],
      ['1.0', '1.0bc'],
      ['1-r', '1-r0'],
      ['1-r-0', '1-r0'],
      ['1-r-1', '1-r0'],
      ['0.r1', '0r2'],
      ['0..1..0', '0..1..1'],
      ['0...1...0', '0...1...1'],
      ['0...1...0.r1', '0...1...0.r2'],
      ['0...1...0r1', '0...1...0r2'],
      ['0..8', '0..8'],
      ['0..8', '0...8'],
      ['0.8.21.r2', '0.8.21.r1'],
      ['10.2.24.r0', '10.2.22.r0'],
      ['0.8.21.r2', '0.8.21r2'],
      ['1.2.0A', '1.2.0d'],
      ['1.2.0D', '1.2.0d'],
      ['1-r2', '1-r-1'],
      ['1', '1-ruff'],
      ['1-r0-1', '1-r-2'],
      ['1-r0-1', '1-r0-2'],
      ['1-ruff2', '1-ruff1'],
      ['1-ruff2', '1--ruff1'],
      ['1-r0-ruff2', '1-r0-ruff1'],
      ['1.2', '1.2_blah'],
      ['1.2_svn1', '1.2_csv2'],
      ['1.2_cvs1', '1.2_blah'],
      ['.1', '1'],
      ['1', '.1'],
      ['.2', '.1'],
      ['a', 'b'],
      ['c', 'b'],
      ['c', 'c'],
    ],
    check(v, got) {
      assert.equal(got, 'invalid', v.where);
      const scheme = getScheme('apk');
      assert.ok(scheme.validate(v.a) !== null || scheme.validate(v.b) !== null, v.where);
      // apk-tools' own test data exercises apk_version_compare directly; that walk must agree.
      if (/apk-tools|go-apk-version/.test(v.source))
        assert.equal(apkVersionCompareUnchecked(v.a, v.b), v.expected, v.where);
    },
  },
};

for (const scheme of SCHEME_NAMES) {
  test(`${scheme}: every vector agrees, apart from the listed odd cases`, (t) => {
    const vectors = loadVectors(scheme);
    const odd = new Set(ODD[scheme].pairs.map((p) => JSON.stringify(p)));
    assert.equal(odd.size, ODD[scheme].pairs.length, 'odd pairs are listed once');
    const oddSeen = new Set<string>();
    const mismatches: string[] = [];
    let agreed = 0;
    let allowedOdd = 0;
    for (const v of vectors) {
      const got = run(scheme, v.a, v.b);
      const key = JSON.stringify([v.a, v.b]);
      if (odd.has(key)) {
        oddSeen.add(key);
        assert.notEqual(got, v.expected, `${v.where}: listed as odd but agrees; drop it from the list`);
        ODD[scheme].check(v, got);
        allowedOdd++;
      } else if (got === v.expected) {
        agreed++;
      } else {
        mismatches.push(
          `${v.where}: ${JSON.stringify(v.a)} vs ${JSON.stringify(v.b)}: expected ${v.expected}, got ${got}`,
        );
      }
    }
    t.diagnostic(
      `${scheme}: checked ${vectors.length}, agreed ${agreed}, allowed odd ${allowedOdd} (${ODD[scheme].why})`,
    );
    assert.deepEqual(mismatches, []);
    assert.deepEqual(
      [...odd].filter((k) => !oddSeen.has(k)),
      [],
      'every listed odd pair is in the data',
    );
    assert.equal(agreed + allowedOdd, vectors.length);
  });
}

// ---- the real tools ----

/** dpkg --compare-versions: -1/0/1, or 'invalid' when dpkg refuses a version (exit 2). */
function dpkgCompare(a: string, b: string): Expected {
  const ask = (op: string): boolean | 'invalid' => {
    const r = spawnSync('dpkg', ['--compare-versions', a, op, b], { encoding: 'utf8' });
    if (r.error) throw r.error;
    if (r.status === 0) return true;
    if (r.status === 1) return false;
    if (r.status === 2 && /bad syntax/.test(r.stderr)) return 'invalid';
    throw new Error(`dpkg --compare-versions ${a} ${op} ${b}: exit ${r.status}: ${r.stderr}`);
  };
  const lt = ask('lt');
  if (lt === 'invalid') return 'invalid';
  if (lt) return -1;
  return ask('eq') === true ? 0 : 1;
}

/** rpm.vercmp in rpm's embedded Lua, for many pairs in one rpm process. */
function rpmVercmpMany(pairs: [string, string][]): number[] {
  const bytes = (s: string): string => `"${[...Buffer.from(s, 'utf8')].map((c) => `\\${c}`).join('')}"`;
  const script = pairs.map(([a, b]) => `io.write(rpm.vercmp(${bytes(a)}, ${bytes(b)}), "\\n")`).join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-rpm-'));
  try {
    const file = join(dir, 'vercmp.lua');
    writeFileSync(file, script);
    const out = execFileSync('rpm', ['--eval', `%{lua: dofile(${bytes(file)})}`], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const results = out.trim().split('\n').map(Number);
    assert.equal(results.length, pairs.length, 'rpm printed one result per pair');
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('rpm: every vector with two non-empty strings agrees with the real rpm.vercmp', (t) => {
  const vectors = loadVectors('rpm').filter((v) => v.a !== '' && v.b !== '');
  const real = rpmVercmpMany(vectors.map((v) => [v.a, v.b]));
  const scheme = getScheme('rpm');
  const differ = vectors.filter((v, i) => scheme.compare(v.a, v.b) !== real[i]).map((v) => v.where);
  t.diagnostic(
    `rpm: ${vectors.length} vectors compared with ${execFileSync('rpm', ['--version'], { encoding: 'utf8' }).trim()}`,
  );
  assert.deepEqual(differ, []);
});

test('rpm: generated EVRs and fields agree with the real rpm.vercmp', (t) => {
  const seed = Date.now() | 0;
  const evrs = fc.sample(fc.tuple(rpmEvr, rpmEvr), { numRuns: 1500, seed });
  // Fields without ':' or '-' parse as a bare version, so rpm.vercmp is rpmvercmp on them.
  const fields = fc.sample(fc.tuple(rpmField, rpmField), { numRuns: 1500, seed: seed + 1 });
  const real = rpmVercmpMany([...evrs, ...fields]);
  const scheme = getScheme('rpm');
  const differ: string[] = [];
  evrs.forEach(([a, b], i) => {
    if (scheme.compare(a, b) !== real[i])
      differ.push(`EVR ${JSON.stringify(a)} vs ${JSON.stringify(b)}: rpm says ${real[i]}`);
  });
  fields.forEach(([a, b], i) => {
    if (rpmvercmp(a, b) !== real[evrs.length + i])
      differ.push(`field ${JSON.stringify(a)} vs ${JSON.stringify(b)}: rpm says ${real[evrs.length + i]}`);
  });
  t.diagnostic(`rpm: ${evrs.length} EVR pairs and ${fields.length} field pairs (seed ${seed})`);
  assert.deepEqual(differ, [], `seed ${seed}`);
});

test('deb: generated versions agree with the real dpkg --compare-versions', (t) => {
  const seed = Date.now() | 0;
  // Valid versions, and raw strings over dpkg's alphabet (many refused, some only warned about).
  // Strings starting with '-' would read as dpkg options, and dpkg takes '' as "no version".
  const raw = fc
    .array(fc.constantFrom('0', '1', '9', '10', 'a', 'Z', '.', '+', '~', ':', '-', '_', ' ', '1:', '-1'), {
      minLength: 1,
      maxLength: 6,
    })
    .map((xs) => xs.join(''))
    .filter((s) => s !== '' && !s.startsWith('-'));
  const pairs = [
    ...fc.sample(fc.tuple(debVersion, debVersion), { numRuns: 200, seed }),
    ...fc.sample(fc.tuple(raw, debVersion), { numRuns: 100, seed: seed + 1 }),
  ];
  const differ: string[] = [];
  let refused = 0;
  for (const [a, b] of pairs) {
    const real = dpkgCompare(a, b);
    const ours = run('deb', a, b);
    if (real === 'invalid') refused++;
    // b is always valid, so 'invalid' on either side is about a: validity is checked too.
    if (ours !== real) differ.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: dpkg says ${real}, scheme ${ours}`);
  }
  t.diagnostic(`deb: ${pairs.length} pairs against dpkg (${refused} refused by dpkg; seed ${seed})`);
  assert.deepEqual(differ, [], `seed ${seed}`);
});
