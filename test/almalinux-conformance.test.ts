// Conformance of AlmaLinux import + matching against the AlmaLinux 9 OSV database itself: for
// every package of every AlmaLinux 9 advisory, an installed build older than, equal to and
// newer than the advisory's fixed version is matched through the real vulnerability DB, and
// each result is checked against what rpm ordering says about the raw advisory data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AdvisoryLookup } from '../src/core/lookup.ts';
import { matchInventory } from '../src/core/match.ts';
import type { AdvisoryEntry, InstalledPackage, Inventory, VulnerabilityInfo } from '../src/core/types.ts';
import { getScheme } from '../src/core/version/index.ts';
import { parseEvr } from '../src/core/version/rpm.ts';
import { loadFeed } from '../src/feeds/registry.ts';
import { VulnDb } from '../src/vulndb/reader.ts';
import { replaceFeed } from '../src/vulndb/writer.ts';

const ALMA9 = fileURLToPath(new URL('../../shared/data/feeds/almalinux/osv/almalinux9', import.meta.url));
const rpm = getScheme('rpm');

interface RawAdvisory {
  id: string;
  summary?: string;
  related?: string[];
  references?: { url: string }[];
  affected: {
    package: { ecosystem: string; name: string };
    ranges: { type: string; events: Record<string, string>[] }[];
  }[];
}

/**
 * What the advisory data says, read without the importer: CVEs (each a vulnerability, else the advisory is one), fixes.
 */
function expectations(
  adv: RawAdvisory,
): { vulnIds: string[]; fixes: { name: string; fixed: string; stream: string | null }[] } | null {
  let cves = [...new Set((adv.related ?? []).filter((r) => /^CVE-\d{4}-\d+$/.test(r)))];
  if (cves.length === 0)
    cves = [...new Set((adv.references ?? []).flatMap((r) => r.url.match(/CVE-\d{4}-\d{4,}/g) ?? []))];
  if (cves.length === 0 && /^AL(BA|EA)-/.test(adv.id)) return null;
  const vulnIds = cves.length ? cves : [adv.id];
  const streamInSummary = /^(?:[^:]*:\s)?([A-Za-z0-9_.+-]+:[A-Za-z0-9_.+-]+)\s/.exec(adv.summary ?? '')?.[1] ?? null;
  const fixes: { name: string; fixed: string; stream: string | null }[] = [];
  for (const a of adv.affected) {
    if (a.package.ecosystem !== 'AlmaLinux:9') continue;
    for (const r of a.ranges) {
      for (const e of r.events) {
        if (!e.fixed) continue;
        const fixed = e.fixed.replace(/^0+:/, '');
        fixes.push({ name: a.package.name, fixed, stream: /\.module[_+]/.test(fixed) ? streamInSummary : null });
      }
    }
  }
  return { vulnIds, fixes };
}

function evrString(epoch: string | null, version: string, release: string): string {
  return `${epoch && epoch !== '0' ? `${epoch}:` : ''}${version}-${release}`;
}

/** Decrements the first number in `s` that is above zero; null when there is none. */
function decrementFirstNumber(s: string): string | null {
  const m = /[1-9]\d*/.exec(s);
  if (!m) return null;
  return `${s.slice(0, m.index)}${String(Number(m[0]) - 1)}${s.slice(m.index + m[0].length)}`;
}

/** A build rpm orders before `fixed`: the release (else the version) with a number lowered. */
function olderThan(fixed: string): string | null {
  const evr = parseEvr(fixed);
  const release = evr.release ?? '';
  const candidates = [
    decrementFirstNumber(release) !== null
      ? evrString(evr.epoch, evr.version, decrementFirstNumber(release) as string)
      : null,
    decrementFirstNumber(evr.version) !== null
      ? evrString(evr.epoch, decrementFirstNumber(evr.version) as string, release)
      : null,
  ];
  return candidates.find((c) => c !== null && rpm.compare(c, fixed) < 0) ?? null;
}

/** Epoch and version of a build, without its release: the upstream version line it is on. */
function lineOf(v: string): string {
  const evr = parseEvr(v);
  return evr.epoch && evr.epoch !== '0' ? `${evr.epoch}:${evr.version}` : evr.version;
}

/**
 * The fix a build is held to, from every fixed build the advisories give one vulnerability of
 * one package (and stream). Fixes on one upstream version line mean "fixed from the lowest on";
 * fixes on several lines (389-ds-base 2.5.2-9.el9_5 and 2.6.1-8.el9_6) each hold the builds of
 * their own line; a build older than every line is held to the lowest fix; one between lines or
 * above all of them was never named as unfixed. null: no finding.
 */
function fixFor(version: string, fixes: readonly string[]): string | null {
  const lowest = (list: readonly string[]): string => list.reduce((a, b) => (rpm.compare(b, a) < 0 ? b : a));
  const ownLine = fixes.filter((f) => rpm.compare(lineOf(f), lineOf(version)) === 0);
  if (ownLine.length) {
    const fix = lowest(ownLine);
    return rpm.compare(version, fix) < 0 ? fix : null;
  }
  const fix = lowest(fixes);
  return rpm.compare(version, fix) < 0 ? fix : null;
}

/** A build rpm orders after `fixed`: one more release segment. */
function newerThan(fixed: string): string | null {
  const evr = parseEvr(fixed);
  const c = evrString(evr.epoch, evr.version, `${evr.release ?? '0'}.1`);
  return rpm.compare(c, fixed) > 0 ? c : null;
}

test('every AlmaLinux 9 advisory: older builds are found with the fixed version, equal and newer ones are not', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'patchloop-alma-'));
  try {
    const warnings: string[] = [];
    await replaceFeed(dataDir, 'almalinux', async (writer) => {
      await (await loadFeed('almalinux')).import([ALMA9], { writer, warn: (m) => warnings.push(m) });
    });

    // The oracle: per (package, module stream), every fixed build of each vulnerability (fixFor
    // says which one a build is held to).
    const files = readdirSync(ALMA9)
      .filter((f) => f.endsWith('.json'))
      .sort();
    const fixedBy = new Map<string, Map<string, string[]>>();
    /** Per (package, stream, vulnerability): each advisory naming it and its fixed build. */
    const advisoriesOf = new Map<string, { advisory: string; fixed: string }[]>();
    const checks: {
      advisory: string;
      vulnId: string;
      name: string;
      stream: string | null;
      fixed: string;
      builds: string[];
    }[] = [];
    let skippedNonSecurity = 0;
    for (const f of files) {
      const adv = JSON.parse(readFileSync(join(ALMA9, f), 'utf8')) as RawAdvisory;
      const exp = expectations(adv);
      if (!exp) {
        skippedNonSecurity++;
        continue;
      }
      for (const fx of exp.fixes) {
        const key = `${fx.name}\u0000${fx.stream ?? ''}`;
        const byVuln = fixedBy.get(key) ?? new Map<string, string[]>();
        fixedBy.set(key, byVuln);
        for (const vulnId of exp.vulnIds) {
          byVuln.set(vulnId, [...(byVuln.get(vulnId) ?? []), fx.fixed]);
          checks.push({ advisory: adv.id, vulnId, name: fx.name, stream: fx.stream, fixed: fx.fixed, builds: [] });
          const named = `${key}\u0000${vulnId}`;
          advisoriesOf.set(named, [...(advisoriesOf.get(named) ?? []), { advisory: adv.id, fixed: fx.fixed }]);
        }
      }
    }

    // The installed set: an older, an equal and a newer build for every fix.
    const installed = new Map<string, InstalledPackage & { stream: string | null }>();
    let noOlder = 0;
    let noNewer = 0;
    for (const c of checks) {
      const versions: ['older' | 'equal' | 'newer', string | null][] = [
        ['older', olderThan(c.fixed)],
        ['equal', c.fixed],
        ['newer', newerThan(c.fixed)],
      ];
      for (const [kind, version] of versions) {
        if (version === null) {
          if (kind === 'older') noOlder++;
          else noNewer++;
          continue;
        }
        const id = `${c.name} ${version}`;
        if (!installed.has(id)) {
          installed.set(id, {
            name: c.name,
            version,
            arch: 'x86_64',
            source: c.name,
            source_version: version,
            format: 'rpm',
            modularity_label: c.stream ? `${c.stream}:9040020240101000000:9a5b2f1c` : undefined,
            stream: c.stream,
          });
        }
        c.builds.push(id);
      }
    }
    const inventory: Inventory = {
      os: { id: 'almalinux', version_id: '9.4', codename: '', pretty_name: 'AlmaLinux 9.4 (Seafoam Ocelot)' },
      kernel: null,
      packages: [...installed.values()].map(({ stream: _s, ...p }) => p),
    };
    // Everything the DB holds for AlmaLinux 9, read back from the SQLite file once; lookups are
    // then answered from memory (70,000 installed builds make per-package queries slow).
    const db = VulnDb.open(dataDir);
    const byPackage = new Map<string, AdvisoryEntry[]>();
    for (const e of db.allEntries('almalinux', '9')) byPackage.set(e.package, [...(byPackage.get(e.package) ?? []), e]);
    const vulns = new Map<string, VulnerabilityInfo | null>();
    const lookup: AdvisoryLookup = {
      entries: (distro, release, key) => (distro === 'almalinux' && release === '9' ? (byPackage.get(key) ?? []) : []),
      vulnerability: (id) => {
        if (!vulns.has(id)) vulns.set(id, db.vulnerability(id));
        return vulns.get(id) ?? null;
      },
      support: () => null,
    };
    const result = matchInventory(inventory, lookup);
    db.close();
    assert.equal(result.release, '9');

    const found = new Map<string, Map<string, string | null>>();
    const advisoryMismatches: string[] = [];
    for (const f of result.findings) {
      const id = `${f.package.name} ${f.package.version}`;
      const m = found.get(id) ?? new Map<string, string | null>();
      found.set(id, m);
      assert.equal(f.status, 'fixed', `${id} ${f.id}: status`);
      m.set(f.id, f.fixed_version);
      // Every advisory naming the vulnerability for the package whose build is newer than the installed one.
      const stream = installed.get(id)?.stream ?? '';
      const expected = new Set(
        (advisoriesOf.get(`${f.package.name}\u0000${stream}\u0000${f.id}`) ?? [])
          .filter((a) => rpm.compare(f.package.version, a.fixed) < 0)
          .map((a) => a.advisory),
      );
      const actual = new Set(f.advisory_ids);
      if (expected.size !== actual.size || [...expected].some((a) => !actual.has(a))) {
        advisoryMismatches.push(
          `${id} ${f.id}: advisories ${[...actual].sort().join(' ')}, expected ${[...expected].sort().join(' ')}`,
        );
      }
    }
    assert.deepEqual(
      advisoryMismatches.slice(0, 10),
      [],
      `${advisoryMismatches.length} findings with other advisory ids`,
    );

    // Every installed build: exactly the vulnerabilities whose fix for it (fixFor) is newer, each with that fix.
    const mismatches: string[] = [];
    for (const [id, p] of installed) {
      const expected = new Map<string, string>();
      for (const [vuln, fixes] of fixedBy.get(`${p.name}\u0000${p.stream ?? ''}`) ?? []) {
        const fixed = fixFor(p.version, fixes);
        if (fixed !== null) expected.set(vuln, fixed);
      }
      const actual = found.get(id) ?? new Map<string, string | null>();
      for (const [vuln, fixed] of expected) {
        if (actual.get(vuln) !== fixed)
          mismatches.push(
            `${id}: expected ${vuln} fixed in ${fixed}, got ${actual.has(vuln) ? actual.get(vuln) : 'no finding'}`,
          );
      }
      for (const vuln of actual.keys()) if (!expected.has(vuln)) mismatches.push(`${id}: unexpected finding ${vuln}`);
    }
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);

    // And per advisory: its older builds are reported under its vulnerability, equal/newer not.
    let older = 0;
    let equalOrNewer = 0;
    let fixedEarlier = 0;
    let betweenLines = 0;
    let ownLine = 0;
    for (const c of checks) {
      const fixes = fixedBy.get(`${c.name}\u0000${c.stream ?? ''}`)?.get(c.vulnId) as string[];
      const lowest = fixes.reduce((a, b) => (rpm.compare(b, a) < 0 ? b : a));
      for (const id of c.builds) {
        const build = installed.get(id) as InstalledPackage & { stream: string | null };
        // The same build of a package shipped in two module streams is installed once, in the first.
        if (build.stream !== c.stream) continue;
        const version = build.version;
        const reported = found.get(id)?.get(c.vulnId);
        const sameLine = fixes.filter((f) => rpm.compare(lineOf(f), lineOf(version)) === 0);
        const lineFix = sameLine.length ? sameLine.reduce((a, b) => (rpm.compare(b, a) < 0 ? b : a)) : null;
        if (rpm.compare(version, lowest) < 0) {
          assert.equal(reported, lowest, `${c.advisory}: ${id} older than ${lowest}: ${c.vulnId} finding`);
          older++;
        } else if (lineFix !== null && rpm.compare(version, lineFix) < 0) {
          // Above a lower version line's fix, but older than the fix of its own line (the same
          // CVE fixed in 2.5.2-9.el9_5 and 2.6.1-8.el9_6, installed 2.6.1-7): held to its line.
          assert.equal(
            reported,
            lineFix,
            `${c.advisory}: ${id} older than ${lineFix} on its own version line: ${c.vulnId} finding`,
          );
          ownLine++;
        } else if (rpm.compare(version, c.fixed) < 0) {
          // Older than this advisory's build, but the same CVE was fixed by a lower build of its
          // line (another minor release or an earlier advisory), or it lies between two lines:
          // that build counts as fixed.
          assert.equal(
            reported,
            undefined,
            `${c.advisory}: ${id} >= its line's fix ${lineFix ?? '(none: between lines)'} still reported`,
          );
          if (lineFix === null) betweenLines++;
          else fixedEarlier++;
        } else {
          assert.equal(reported, undefined, `${c.advisory}: ${id} >= ${c.fixed} still reported`);
          equalOrNewer++;
        }
      }
    }
    const advisories = new Set(checks.map((c) => c.advisory));
    console.log(
      `AlmaLinux 9: ${files.length} advisories (${advisories.size} with fixes checked, ${skippedNonSecurity} bug-fix advisories without CVE skipped), ` +
        `${checks.length} package fixes, ${installed.size} installed builds, ${result.findings.length} findings; ` +
        `${older} older-build checks, ${equalOrNewer} equal/newer-build checks, ${ownLine} older builds on a higher version line held to that line's fix, ` +
        `${fixedEarlier} builds older than an advisory but fixed by a lower build of the same CVE on their line, ${betweenLines} between two lines, ${noOlder} fixes without a derivable older build, ${noNewer} without a newer one; ` +
        `import warnings: ${warnings.length}`,
    );
    assert.ok(advisories.size > 1700, `only ${advisories.size} advisories checked`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
