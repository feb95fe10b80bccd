// The agent's commands as functions: enrol, run (collect, spool, send), flush (send only),
// status. One run at a time per state directory (a lock file).
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname as systemHostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { EnrollResponseSchema } from '../core/protocol.ts';
import type { AgentConfig } from './config.ts';
import { collectSnapshot } from './collect.ts';
import { loadCredential, saveCredential, type Credential } from './credentials.ts';
import { ensurePrivateDir } from './files.ts';
import { AgentHttpClient, jsonBody } from './http.ts';
import { CredentialRefusedError, sendSpool, type SendOutcome } from './send.ts';
import { Spool } from './spool.ts';
import { loadAcked } from './acked.ts';
import { PatchloopError } from '../core/errors.ts';

export interface AgentDeps {
  log: Logger;
  version: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export async function enroll(
  config: AgentConfig,
  o: { server: string; token: string; hostname?: string },
  deps: AgentDeps,
): Promise<Credential & { file: string }> {
  // The address is checked before the token is sent (ServerAddressError): a wrong scheme,
  // port or path is named as such, never reported as a refused token.
  const client = new AgentHttpClient({ server: o.server, caFile: config.ca_file, timeoutMs: config.timeout });
  await client.checkServer();
  const machineId = (() => {
    try {
      const id = readFileSync(join(config.root, 'etc/machine-id'), 'utf8').trim();
      return /^[0-9a-f]{32}$/.test(id) ? id : undefined;
    } catch {
      return undefined;
    }
  })();
  const hostname = o.hostname ?? config.hostname ?? systemHostname();
  const res = await client.request('POST', '/api/v1/enroll', {
    json: { token: o.token, hostname, ...(machineId ? { machine_id: machineId } : {}) },
  });
  if (res.status === 401)
    throw new PatchloopError(
      'PL_E_ENROLMENT_REFUSED',
      'the server refused the enrolment token (unknown, expired, used up or revoked)',
    );
  if (res.status !== 201) {
    const msg = (jsonBody(res) as { message?: string } | null)?.message ?? `HTTP ${res.status}`;
    throw new PatchloopError('PL_E_ENROLMENT_REFUSED', `enrolment failed: ${msg}`);
  }
  const r = EnrollResponseSchema.safeParse(jsonBody(res));
  if (!r.success)
    throw new PatchloopError('PL_E_ENROLMENT_REFUSED', 'the server answered the enrolment without a credential');
  const cred: Credential = {
    server: client.origin,
    host_id: r.data.host_id,
    host_token: r.data.host_token,
    enrolled_at: r.data.server_time,
  };
  const file = saveCredential(config.state_dir, cred);
  deps.log.info({ server: cred.server, host_id: cred.host_id, file }, 'enrolled');
  return { ...cred, file };
}

/** Exclusive run lock; a lock left by a dead process is taken over. */
function lock(stateDir: string): () => void {
  ensurePrivateDir(stateDir);
  const file = join(stateDir, 'agent.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      let alive = false;
      try {
        if (pid > 0) {
          process.kill(pid, 0);
          alive = true;
        }
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) throw new Error(`another agent run (pid ${pid}) is in progress (${file})`, { cause: err });
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot take the agent lock ${file}`);
}

function sender(config: AgentConfig, cred: Credential, deps: AgentDeps, force: boolean) {
  const spool = new Spool(
    config.state_dir,
    { maxReports: config.spool.max_reports, maxBytes: config.spool.max_bytes },
    deps.log,
  );
  const client = new AgentHttpClient({
    server: config.server ?? cred.server,
    caFile: config.ca_file,
    timeoutMs: config.timeout,
    token: cred.host_token,
  });
  const send = (): Promise<SendOutcome> =>
    sendSpool({
      spool,
      client,
      stateDir: config.state_dir,
      hostId: cred.host_id,
      agentVersion: deps.version,
      retry: {
        attempts: config.retry.attempts,
        baseDelayMs: config.retry.base_delay,
        maxDelayMs: config.retry.max_delay,
      },
      now: deps.now ?? Date.now,
      sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      random: deps.random ?? Math.random,
      log: deps.log,
      force,
    });
  return { spool, client, send };
}

export interface RunOutcome extends SendOutcome {
  /** The server reported to (its origin). */
  server: string;
  report_id: string;
  packages: number;
  /** With patching enabled in agent.yaml: what the patch phase did. */
  patch?: { state: string; run_id: string | null; outcome: string | null; message?: string };
}

function patchingEnabled(config: AgentConfig): boolean {
  return config.patch?.enabled === true;
}

/** Collects the inventory, spools it, sends the spool. */
export async function runOnce(config: AgentConfig, deps: AgentDeps): Promise<RunOutcome> {
  const cred = loadCredential(config.state_dir);
  const unlock = lock(config.state_dir);
  try {
    const { spool, client, send } = sender(config, cred, deps, true);
    const patching = patchingEnabled(config) ? await import('./patching.ts') : null;
    const patchDeps = { log: deps.log, now: deps.now ?? Date.now };
    if (patching) await patching.beforeInventory(config, client, patchDeps);
    const collect = async () => {
      const snapshot = await collectSnapshot({
        root: config.root,
        kernel: config.kernel,
        hostname: config.hostname,
        proAttached: config.pro_attached,
      });
      const entry = spool.add(snapshot, (deps.now ?? Date.now)());
      deps.log.info(
        { report_id: entry.report_id, packages: snapshot.packages.length },
        'inventory collected and spooled',
      );
      return { snapshot, entry };
    };
    let { snapshot, entry } = await collect();
    let outcome = await send();
    let patch: RunOutcome['patch'];
    if (patching && outcome.pending === 0) {
      let phase;
      try {
        phase = await patching.patchPhase(config, client, patchDeps);
      } catch (err) {
        if (err instanceof CredentialRefusedError) throw err;
        deps.log.error({ err: (err as Error).message }, 'patch phase failed; the inventory report was sent');
        patch = { state: 'error', run_id: null, outcome: null, message: (err as Error).message };
      }
      if (phase)
        patch = {
          state: phase.state,
          run_id: 'run' in phase ? phase.run.id : null,
          outcome: 'run' in phase ? phase.run.outcome : null,
        };
      // The inventory after a run that changed packages confirms what it closed (server side);
      // a host that is going down for its reboot sends it when it is back.
      if (
        phase?.state === 'ran' &&
        phase.run.mode !== 'dry_run' &&
        phase.run.changes.length > 0 &&
        phase.run.reboot.status !== 'rebooting'
      ) {
        ({ snapshot, entry } = await collect());
        outcome = await send();
      }
    }
    if (config.vulndb_sync && outcome.pending === 0) {
      const { syncVulnDb } = await import('./vulndb-sync.ts');
      try {
        await syncVulnDb(client, config.data_dir, snapshot.host.os.id, deps.log);
      } catch (err) {
        deps.log.warn({ err: (err as Error).message }, 'vulnerability DB download failed; the previous copy is kept');
      }
    }
    return {
      ...outcome,
      server: client.origin,
      report_id: entry.report_id,
      packages: snapshot.packages.length,
      ...(patch ? { patch } : {}),
    };
  } finally {
    unlock();
  }
}

/** Sends what is spooled (honouring the backoff unless `force`). */
export async function flushSpool(config: AgentConfig, deps: AgentDeps, force = false): Promise<SendOutcome> {
  const cred = loadCredential(config.state_dir);
  const unlock = lock(config.state_dir);
  try {
    return await sender(config, cred, deps, force).send();
  } finally {
    unlock();
  }
}

export interface AgentStatus {
  enrolled: boolean;
  server: string | null;
  host_id: number | null;
  spooled: {
    report_id: string;
    collected_at: string;
    attempts: number;
    next_attempt_at: string | null;
    last_error: string | null;
  }[];
  last_acknowledged: { report_id: string; at: string; packages: number } | null;
}

export function agentStatus(config: AgentConfig, deps: AgentDeps): AgentStatus {
  const hasCred = existsSync(join(config.state_dir, 'credentials.json'));
  const cred = hasCred ? loadCredential(config.state_dir) : null;
  const spool = new Spool(
    config.state_dir,
    { maxReports: config.spool.max_reports, maxBytes: config.spool.max_bytes },
    deps.log,
  );
  const acked = loadAcked(config.state_dir);
  return {
    enrolled: cred !== null,
    server: cred ? (config.server ?? cred.server) : null,
    host_id: cred?.host_id ?? null,
    spooled: spool.list().map((e) => ({
      report_id: e.report_id,
      collected_at: e.snapshot.collected_at,
      attempts: e.attempts,
      next_attempt_at: e.next_attempt_at ? new Date(e.next_attempt_at).toISOString() : null,
      last_error: e.last_error,
    })),
    last_acknowledged: acked
      ? { report_id: acked.report_id, at: acked.acked_at, packages: acked.packages.length }
      : null,
  };
}
