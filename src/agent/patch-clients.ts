// The agent's side of patching on the wire: the policy it pulls, the reboot-lease client and
// the patch-run/boot report client over its HTTP client (host credential). Reports that cannot
// be delivered now (server down) wait in a small spool of their own and go out, oldest first,
// at the start of the next agent run — before its inventory report, so the server sees each
// run before the inventory that confirms it.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  AgentPolicyResponseSchema,
  BootAckSchema,
  LeaseResponseSchema,
  PatchRunAckSchema,
  type AgentPolicyResponse,
} from '../core/patch-protocol.ts';
import {
  BootReportSchema,
  PatchRunSchema,
  type BootReport,
  type PatchReportClient,
  type PatchRun,
  type RebootLeaseClient,
} from '../patch/types.ts';
import { ensurePrivateDir, writeFileAtomic } from './files.ts';
import { errorCode, PatchloopError } from '../core/errors.ts';
import { jsonBody, type AgentHttpClient, type HttpResponse } from './http.ts';
import { CredentialRefusedError } from './send.ts';

/** The server answered, but not as the protocol says (a 4xx for this request, or a malformed body). */
export class PatchProtocolError extends PatchloopError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('PL_E_PROTOCOL', message);
    this.status = status;
  }
}

function check(res: HttpResponse, what: string): unknown {
  const body = jsonBody(res);
  if (res.status === 401 || res.status === 403) {
    throw new CredentialRefusedError(
      `the server refused this host's credential (${res.status}) for ${what}; enrol again with \`patchloop agent enroll\``,
    );
  }
  if (res.status >= 500 || res.status === 429 || res.status === 503)
    throw new PatchloopError('PL_E_SERVER_UNREACHABLE', `${what}: server answered ${res.status}`);
  if (res.status >= 400)
    throw new PatchProtocolError(
      res.status,
      `${what}: server answered ${res.status}: ${(body as { message?: string } | null)?.message ?? res.body.toString('utf8').slice(0, 300)}`,
    );
  return body;
}

function parse<T extends z.ZodType>(schema: T, body: unknown, what: string, status: number): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success)
    throw new PatchProtocolError(
      status,
      `${what}: unexpected answer from the server: ${r.error.issues[0]?.path.join('.') || '(body)'}: ${r.error.issues[0]?.message}`,
    );
  return r.data;
}

export async function fetchPolicy(client: AgentHttpClient): Promise<AgentPolicyResponse> {
  const res = await client.request('GET', '/api/v1/agent/policy');
  return parse(
    AgentPolicyResponseSchema,
    check(res, 'GET /api/v1/agent/policy'),
    'GET /api/v1/agent/policy',
    res.status,
  );
}

export class ServerLeaseClient implements RebootLeaseClient {
  private readonly client: AgentHttpClient;
  constructor(client: AgentHttpClient) {
    this.client = client;
  }

  private async post(body: object): Promise<z.infer<typeof LeaseResponseSchema>> {
    const res = await this.client.request('POST', '/api/v1/agent/reboot-lease', { json: body });
    return parse(LeaseResponseSchema, check(res, 'reboot lease'), 'reboot lease', res.status);
  }

  /** group and host are the server's to know (from the credential); they are not sent. */
  async acquire(req: { group: string; host: string; run_id: string; ttl_seconds: number }) {
    const r = await this.post({
      action: 'acquire',
      run_id: req.run_id,
      ttl_seconds: Math.max(60, Math.min(86_400, Math.round(req.ttl_seconds))),
    });
    if ('granted' in r && r.granted) return { granted: true as const, lease_id: r.lease_id, expires_at: r.expires_at };
    if ('granted' in r) return { granted: false as const, retry_at: r.retry_at, reason: r.reason };
    throw new PatchProtocolError(200, 'reboot lease: the server answered an acquire with a release');
  }

  async renew(leaseId: string): Promise<{ expires_at: string }> {
    const r = await this.post({ action: 'renew', lease_id: leaseId });
    if ('granted' in r && r.granted) return { expires_at: r.expires_at };
    throw new PatchProtocolError(200, `reboot lease ${leaseId} was not renewed`);
  }

  async release(leaseId: string): Promise<void> {
    await this.post({ action: 'release', lease_id: leaseId });
  }
}

const SpooledSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('run'), body: PatchRunSchema }),
  z.object({ kind: z.literal('boot'), body: BootReportSchema }),
]);
type Spooled = z.infer<typeof SpooledSchema>;

export interface PatchLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
}

/** Patch-run and boot reports not yet acknowledged, one file each, in state_dir/patch-spool. */
export class PatchReportSpool {
  readonly dir: string;
  private readonly log: PatchLog;
  private seq = 0;
  constructor(stateDir: string, log: PatchLog) {
    this.dir = join(stateDir, 'patch-spool');
    this.log = log;
  }

  add(item: Spooled, now: number): string {
    ensurePrivateDir(this.dir);
    const id = item.kind === 'run' ? item.body.id : item.body.run_id;
    // A newer state of the same run replaces the older one still waiting.
    for (const name of this.names())
      if (name.endsWith(`-${item.kind}-${id}.json`)) rmSync(join(this.dir, name), { force: true });
    const file = join(
      this.dir,
      `${String(now).padStart(15, '0')}-${String(this.seq++).padStart(4, '0')}-${item.kind}-${id}.json`,
    );
    writeFileAtomic(file, JSON.stringify(item));
    return file;
  }

  private names(): string[] {
    return existsSync(this.dir)
      ? readdirSync(this.dir)
          .filter((n) => n.endsWith('.json'))
          .sort()
      : [];
  }

  pending(): number {
    return this.names().length;
  }

  /** Sends what is spooled, oldest first; stops at the first transient failure. */
  async flush(client: AgentHttpClient): Promise<{ sent: number; pending: number; rejected: number }> {
    let sent = 0;
    let rejected = 0;
    const names = this.names();
    for (let i = 0; i < names.length; i++) {
      const file = join(this.dir, names[i]);
      let item: Spooled;
      try {
        item = SpooledSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
      } catch (err) {
        this.setAside(file, `unreadable: ${(err as Error).message}`);
        rejected++;
        continue;
      }
      try {
        await deliver(client, item);
        rmSync(file, { force: true });
        sent++;
      } catch (err) {
        if (errorCode(err) === 'PL_E_SERVER_UNREACHABLE') return { sent, pending: names.length - i, rejected };
        if (err instanceof PatchProtocolError) {
          this.setAside(file, err.message);
          rejected++;
          continue;
        }
        throw err;
      }
    }
    return { sent, pending: 0, rejected };
  }

  private setAside(file: string, reason: string): void {
    const dir = join(this.dir, 'rejected');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const target = join(dir, file.split('/').pop()!);
    renameSync(file, target);
    writeFileAtomic(`${target}.reason`, `${reason}\n`);
    this.log.warn({ file: target, reason }, 'patch report set aside: the server refused it');
  }
}

async function deliver(client: AgentHttpClient, item: Spooled): Promise<void> {
  if (item.kind === 'run') {
    const res = await client.request('POST', '/api/v1/agent/patch-runs', { json: item.body, gzip: true });
    parse(PatchRunAckSchema, check(res, `patch run ${item.body.id}`), 'patch run', res.status);
  } else {
    const res = await client.request('POST', '/api/v1/agent/boot', { json: item.body });
    parse(BootAckSchema, check(res, `boot report of run ${item.body.run_id}`), 'boot report', res.status);
  }
}

/**
 * Sends a report now, and spools it when the server cannot be reached (it goes out with the
 * next run). Reports are sent in order: while older ones wait, a new one waits behind them.
 */
export class ServerReportClient implements PatchReportClient {
  private readonly client: AgentHttpClient;
  private readonly spool: PatchReportSpool;
  private readonly now: () => number;
  private readonly log: PatchLog;
  constructor(client: AgentHttpClient, spool: PatchReportSpool, now: () => number, log: PatchLog) {
    this.client = client;
    this.spool = spool;
    this.now = now;
    this.log = log;
  }

  private async send(item: Spooled): Promise<void> {
    this.spool.add(item, this.now());
    const r = await this.spool.flush(this.client);
    if (r.pending > 0)
      this.log.warn({ pending: r.pending }, 'server unreachable: patch reports stay spooled for the next run');
  }

  sendRun(run: PatchRun): Promise<void> {
    return this.send({ kind: 'run', body: run });
  }

  sendBoot(report: BootReport): Promise<void> {
    return this.send({ kind: 'boot', body: report });
  }
}
