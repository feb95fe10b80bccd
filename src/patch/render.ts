// Human-readable summary of a patch run (the CLI's table format).
import type { PatchRun } from './types.ts';
import { counted } from '../core/plural.ts';

export function renderPatchRun(run: PatchRun): string {
  const out: string[] = [];
  const what = run.mode === 'dry_run' ? 'would change' : 'changed';
  out.push(
    `patch run ${run.id} on ${run.host.hostname ?? run.host.root} (${run.host.os.id} ${run.host.os.version_id}${run.host.os.codename ? ` ${run.host.os.codename}` : ''})`,
  );
  out.push(
    `policy ${run.policy.name} v${run.policy.version}, group ${run.policy.group}; ${run.backend}, ${run.mode.replace('_', '-')}`,
  );
  out.push(
    `outcome: ${run.outcome}${run.skip_reason ? ` (${run.skip_reason})` : ''}${run.exit_code !== null ? `; exit status ${run.exit_code}` : ''}`,
  );
  out.push(`${run.started_at} .. ${run.finished_at}`);
  if (run.changes.length > 0) {
    out.push('', `${counted(run.changes.length, 'package')} ${what}:`);
    const w = Math.max(...run.changes.map((c) => c.name.length));
    for (const c of run.changes) {
      const versions =
        c.action === 'remove' || c.action === 'purge'
          ? `${c.from ?? ''} (${c.action})`
          : `${c.from ?? '(new)'} -> ${c.to ?? ''}${c.action === 'upgrade' ? '' : ` (${c.action})`}`;
      out.push(`  ${c.ok ? ' ' : '!'} ${c.name.padEnd(w)}  ${versions}`);
    }
  } else if (run.outcome !== 'skipped') {
    out.push('', `no package ${what}`);
  }
  if (run.held_back.length > 0) {
    out.push('', `${run.held_back.length} held back:`);
    for (const h of run.held_back) out.push(`  ${h.name}: ${h.reason.replace('_', ' ')}`);
  }
  if (run.errors.length > 0) {
    out.push('', 'errors:');
    for (const e of run.errors)
      out.push(`  [${e.kind}]${e.package ? ` ${e.package}:` : ''} ${e.message}${e.where ? ` (${e.where})` : ''}`);
  }
  const r = run.reboot;
  out.push(
    '',
    `reboot: ${r.required ? `required (${r.because.join(', ')}${r.packages.length ? `: ${r.packages.join(', ')}` : ''}), ${r.status.replace('_', ' ')}${r.detail ? ` - ${r.detail}` : ''}` : 'not required'}`,
  );
  if (r.kernel.newest_installed)
    out.push(`kernel: running ${r.kernel.running ?? 'unknown'}, newest installed ${r.kernel.newest_installed}`);
  if (run.restarts.needed.length > 0) {
    out.push(
      `services to restart: ${run.restarts.needed.join(', ')}${run.restarts.restarted.length ? `; restarted ${run.restarts.restarted.join(', ')}` : ''}`,
    );
  }
  if (run.cves_closed)
    out.push(
      `vulnerabilities closed: ${run.cves_closed.length} (findings ${run.findings_before} -> ${run.findings_after})`,
    );
  for (const w of run.warnings) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
}
