// Fuzz targets: the bodies agents send the server, through the schemas the server validates
// them with (the inventory report, the patch-run record and the boot report). The seeds are
// real: a report built by the agent's own code from the real bookworm host, and patch runs
// interpreted from the captured unattended-upgrades runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ReportSchema } from '../../../src/core/protocol.ts';
import { collectSnapshot } from '../../../src/agent/collect.ts';
import { buildReport } from '../../../src/agent/send.ts';
import type { SpoolEntry } from '../../../src/agent/spool.ts';
import { parseDpkgLog } from '../../../src/patch/apt/dpkg-log.ts';
import { parseHistoryLog } from '../../../src/patch/apt/history-log.ts';
import { interpretAptRun } from '../../../src/patch/apt/interpret.ts';
import { parseKeptBack, parseUuLog } from '../../../src/patch/apt/uu-log.ts';
import { BootReportSchema, PATCH_RUN_SCHEMA, PatchRunSchema, type PatchRun } from '../../../src/patch/types.ts';
import type { Seed } from '../mutate.ts';
import { FIXTURES as PATCH_FIXTURES } from '../../support/patch-logs.ts';
import { SHARED_DATA } from '../../support/paths.ts';
import { invariant, text, type FuzzTarget } from './common.ts';

const json = (name: string, value: unknown): Seed => ({ name, bytes: Buffer.from(JSON.stringify(value)) });

/** The body as the server's JSON body parser hands it to validation; null when it is not JSON (a 400 there). */
function parseBody(input: Uint8Array): { value: unknown } | null {
  try {
    return { value: JSON.parse(text(input)) };
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
}

function check(schema: { safeParse(v: unknown): { success: boolean; data?: unknown } }, value: unknown): boolean {
  const r = schema.safeParse(value);
  invariant(typeof r.success === 'boolean', () => 'safeParse returned no verdict');
  return r.success;
}

export const reportBody: FuzzTarget = {
  name: 'report-body',
  kind: 'json',
  async seeds() {
    const snapshot = await collectSnapshot({
      root: path.join(SHARED_DATA, 'pkgdb/dpkg/bookworm-host'),
      hostname: 'bookworm-host',
      kernel: '6.1.0-28-amd64',
      now: () => new Date('2026-11-27T03:00:00Z'),
    });
    const entry = (packages: typeof snapshot.packages, forceFull: boolean): SpoolEntry => ({
      report_id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      snapshot: { ...snapshot, packages },
      skipped_reports: 0,
      attempts: 0,
      next_attempt_at: 0,
      force_full: forceFull,
      last_error: null,
      file: 'spool/report.json.gz',
      bytes: 0,
    });
    const some = snapshot.packages.slice(0, 60);
    // A delta: ten packages gone, one upgraded, against the first sixty.
    const acked = {
      server: 'https://patchloop.example',
      host_id: 7,
      report_id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5a',
      acked_at: '2026-11-26T03:00:00Z',
      digest: 'f'.repeat(64),
      packages: some,
    };
    const changed = [...some.slice(10, 59), { ...some[59], version: `${some[59].version}+deb12u9` }];
    return [
      json('report of 60 bookworm-host packages (full)', buildReport(entry(some, true), null, '0.1.0')),
      json('report of bookworm-host (delta)', buildReport(entry(changed, false), acked, '0.1.0')),
      json(
        'report of all 729 bookworm-host packages (full)',
        buildReport(entry(snapshot.packages, true), null, '0.1.0'),
      ),
    ];
  },
  dictionary: [
    '"kind"',
    '"full"',
    '"delta"',
    '"packages"',
    '"added"',
    '"removed"',
    '"format"',
    '"deb"',
    '"epoch"',
    '"digest"',
    '"warnings"',
  ],
  weight: 0.5,
  run(input) {
    const body = parseBody(input);
    return body === null ? 'not JSON' : check(ReportSchema, body.value);
  },
  clear: [],
};

/** A patch run record around an interpretation of one captured unattended-upgrades run. */
function patchRunOf(dir: string): PatchRun {
  const read = (f: string): string | null => {
    try {
      return readFileSync(path.join(PATCH_FIXTURES, dir, f), 'utf8');
    } catch {
      return null;
    }
  };
  const files = { uuLog: 'unattended-upgrades.log', history: 'history.log', dpkgLog: 'unattended-upgrades-dpkg.log' };
  const r = interpretAptRun({
    runs: parseUuLog(read(files.uuLog) ?? '', files.uuLog),
    history: parseHistoryLog(read(files.history) ?? '', files.history).entries,
    dpkg: parseDpkgLog(read(files.dpkgLog) ?? '', files.dpkgLog),
    keptBack: read('kept-back') === null ? null : parseKeptBack(read('kept-back') ?? ''),
    exitCode: Number(read('exit-code')),
    dryRun: false,
    files,
  });
  return PatchRunSchema.parse({
    schema: PATCH_RUN_SCHEMA,
    id: `0193a1b2-c3d4-7e5f-8a9b-${dir.length.toString(16).padStart(12, '0')}`,
    host: {
      hostname: 'bookworm-host',
      machine_id: null,
      root: '/',
      os: { id: 'debian', version_id: '12', codename: 'bookworm' },
    },
    policy: { name: 'default', version: 3, group: 'prod' },
    backend: 'unattended-upgrades',
    mode: 'run',
    started_at: '2026-11-27T03:00:29.000Z',
    finished_at: '2026-11-27T03:04:10.000Z',
    outcome: r.outcome,
    skip_reason: r.skip_reason,
    exit_code: Number(read('exit-code')),
    changes: r.changes,
    held_back: r.held_back,
    errors: r.errors,
    reboot: {
      required: true,
      because: ['reboot-required'],
      packages: ['linux-image-6.1.0-29-amd64'],
      kernel: {
        running: '6.1.0-28-amd64',
        newest_installed: '6.1.0-29-amd64',
        installed: ['6.1.0-28-amd64', '6.1.0-29-amd64'],
        needrestart_status: 3,
        reboot_needed: true,
      },
      status: 'pending_lease',
    },
    restarts: { needed: ['ssh.service'], restarted: ['ssh.service'], failed: [], skipped: [] },
    cves_closed: ['CVE-2024-5535'],
    findings_before: 12,
    findings_after: 11,
    warnings: r.warnings,
  });
}

export const patchRunBody: FuzzTarget = {
  name: 'patch-run-body',
  kind: 'json',
  seeds: () => [
    ...['broken-dpkg', 'blocklist-and-conffile', 'interrupted', 'lock-held'].map((d) =>
      json(`patch run of ${d}`, patchRunOf(d)),
    ),
    json('boot report', {
      run_id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      hostname: 'bookworm-host',
      lease_id: 'l-1',
      boot_id: 'b-2',
      booted_at: '2026-11-27T03:06:00.000Z',
      kernel: '6.1.0-29-amd64',
      reboot_still_required: false,
    }),
  ],
  dictionary: [
    '"changes"',
    '"held_back"',
    '"errors"',
    '"reboot"',
    '"outcome"',
    '"cves_closed"',
    '"started_at"',
    '"9999-12-31T23:59:59Z"',
  ],
  run(input) {
    const body = parseBody(input);
    return body === null ? 'not JSON' : [check(PatchRunSchema, body.value), check(BootReportSchema, body.value)];
  },
  clear: [],
};

export const protocolTargets: FuzzTarget[] = [reportBody, patchRunBody];
