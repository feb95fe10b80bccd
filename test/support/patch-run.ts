// A patch run as an agent reports it, for server tests: a Debian host upgraded libssl3.
import { PATCH_RUN_SCHEMA, PatchRunSchema, type PatchRun } from '../../src/patch/types.ts';

export function samplePatchRun(o: {
  id: string;
  hostname: string;
  finishedAt: string;
  outcome?: PatchRun['outcome'];
  group?: string;
  policy?: string;
  policyVersion?: number;
}): PatchRun {
  const outcome = o.outcome ?? 'success';
  const failed = outcome === 'failed' || outcome === 'partial';
  return PatchRunSchema.parse({
    schema: PATCH_RUN_SCHEMA,
    id: o.id,
    host: {
      hostname: o.hostname,
      machine_id: null,
      root: '/',
      os: { id: 'debian', version_id: '12', codename: 'bookworm' },
    },
    policy: { name: o.policy ?? 'default', version: o.policyVersion ?? 1, group: o.group ?? '' },
    backend: 'unattended-upgrades',
    mode: 'run',
    started_at: new Date(Date.parse(o.finishedAt) - 90_000).toISOString(),
    finished_at: o.finishedAt,
    outcome,
    skip_reason: null,
    exit_code: failed ? 1 : 0,
    changes: [
      {
        name: 'libssl3',
        arch: 'amd64',
        action: 'upgrade',
        from: '3.0.19-1~deb12u2',
        to: '3.0.19-1~deb12u3',
        automatic: false,
        ok: !failed,
      },
    ],
    held_back: [],
    errors: failed
      ? [
          {
            kind: 'dpkg',
            where: '/var/log/dpkg.log:12',
            package: 'libssl3',
            message: 'subprocess installed post-installation script returned error exit status 1',
          },
        ]
      : [],
    reboot: {
      required: false,
      because: [],
      packages: [],
      kernel: { running: null, newest_installed: null, installed: [], needrestart_status: null, reboot_needed: null },
      status: 'not_required',
    },
    restarts: { needed: [], restarted: [], failed: [], skipped: [] },
    cves_closed: null,
    findings_before: null,
    findings_after: null,
    warnings: [],
  });
}
