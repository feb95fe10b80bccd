// `patchloop agent install`: writes the systemd units (from deploy/systemd, or the copies a
// single executable embeds) for this installation, a documented default configuration if there
// is none, and enables the timers.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { installedCommand, installedDocumentation, installedFile } from '../project-root.ts';

export interface InstallOptions {
  unitDir: string;
  config: string;
  stateDir: string;
  dataDir: string;
  /** The patchloop command the units run (default: this installation's bin/patchloop, or the single executable). */
  bin?: string;
  /** systemd's Documentation= of the units (default: this installation's). */
  documentation?: string;
  /** Server URL written into a new configuration file. */
  server?: string;
  enable: boolean;
  systemctl?: string;
}

export interface InstallResult {
  written: string[];
  config: { file: string; created: boolean };
  enabled: boolean;
}

const UNITS: { template: string; name: string }[] = [
  { template: 'patchloop-agent.service.in', name: 'patchloop-agent.service' },
  { template: 'patchloop-agent.timer', name: 'patchloop-agent.timer' },
  { template: 'patchloop-agent-flush.service.in', name: 'patchloop-agent-flush.service' },
  { template: 'patchloop-agent-flush.timer', name: 'patchloop-agent-flush.timer' },
];

/** systemd unit files take paths unquoted: refuse the characters that would need escaping. */
function unitPath(p: string, what: string): string {
  if (!/^\/[A-Za-z0-9._/+-]*$/.test(p))
    throw new Error(`${what} ${JSON.stringify(p)} must be an absolute path of plain characters for a systemd unit`);
  return p;
}

export function renderUnit(template: string, o: InstallOptions): string {
  const text = installedFile(`deploy/systemd/${template}`);
  if (!text) throw new Error(`this installation has no systemd unit template deploy/systemd/${template}`);
  return text
    .toString('utf8')
    .replaceAll('@BIN@', unitPath(o.bin ?? installedCommand(), 'the patchloop command'))
    .replaceAll('@CONFIG@', unitPath(o.config, 'the configuration file'))
    .replaceAll('@STATE_DIR@', unitPath(o.stateDir, 'the state directory'))
    .replaceAll('@DATA_DIR@', unitPath(o.dataDir, 'the data directory'))
    .replaceAll('@DOCUMENTATION@', o.documentation ?? installedDocumentation());
}

export function defaultAgentYaml(server?: string): string {
  return `# patchloop agent configuration (see docs/server.md, "The agent configuration").
# Every key is optional.
${server ? `server: ${server}` : '# server: https://patchloop.example.org:8080   # default: the server the agent enrolled with'}
# ca_file: /etc/patchloop/ca.pem        # CA to trust for the server's TLS certificate
# state_dir: /var/lib/patchloop/agent   # credential, spool, last acknowledged inventory
# data_dir: /var/lib/patchloop          # local vulnerability DB copy (vulndb_sync)
# root: /                               # root filesystem to inventory
# hostname: web-1                       # default: the system's host name
# spool:
#   max_reports: 30                     # reports kept while the server is unreachable
#   max_bytes: 67108864
# retry:
#   attempts: 4                         # per run; later runs continue the backoff
#   base_delay: 2s
#   max_delay: 5m
# timeout: 2m
# vulndb_sync: false                    # copy the server's vulnerability DB for offline scans
`;
}

export function installAgent(o: InstallOptions): InstallResult {
  mkdirSync(o.unitDir, { recursive: true });
  const written: string[] = [];
  for (const u of UNITS) {
    const file = join(o.unitDir, u.name);
    writeFileSync(file, renderUnit(u.template, o), { mode: 0o644 });
    written.push(file);
  }
  // ReadWritePaths= needs the directories to exist when the service starts.
  mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  mkdirSync(o.dataDir, { recursive: true, mode: 0o755 });
  let created = false;
  if (!existsSync(o.config)) {
    mkdirSync(dirname(o.config), { recursive: true });
    writeFileSync(o.config, defaultAgentYaml(o.server), { mode: 0o644 });
    created = true;
  }
  if (o.enable) {
    const systemctl = o.systemctl ?? 'systemctl';
    try {
      execFileSync(systemctl, ['daemon-reload'], { stdio: 'pipe' });
      execFileSync(systemctl, ['enable', '--now', 'patchloop-agent.timer', 'patchloop-agent-flush.timer'], {
        stdio: 'pipe',
      });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(
        `units written to ${o.unitDir}, but enabling them failed: ${e.stderr?.toString().trim() || e.message}`,
        { cause: err },
      );
    }
  }
  return { written, config: { file: o.config, created }, enabled: o.enable };
}
