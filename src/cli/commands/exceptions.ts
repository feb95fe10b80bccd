// `patchloop exceptions …`: the server's exception rules from the command line — list, show,
// add, revoke, and OpenVEX import/export. Talks to the server's API with an API token (from
// PATCHLOOP_TOKEN or a file, never a flag's value: command lines are visible to every user).
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { PatchloopError } from '../../core/errors.ts';
import { counted } from '../../core/plural.ts';

interface ServerOptions {
  server?: string;
  tokenFile?: string;
  ca?: string;
  format?: 'table' | 'json';
}

interface Rule {
  id: number;
  state: string;
  kind: string;
  scope: Record<string, string>;
  justification: string;
  owner: string | null;
  expires_at: string | null;
  created_by: string;
  created_at: string;
  held: number;
  version: number;
  revoked_at: string | null;
  revoke_reason: string | null;
  versions?: { version: number; at: string; by: string; change: string }[];
}

const TIMEOUT_MS = 60_000;

function serverOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'server URL (default: $PATCHLOOP_SERVER)')
    .option('--token-file <file>', 'file holding an API token (default: the token in $PATCHLOOP_TOKEN)')
    .option('--ca <file>', "PEM file with the CA that signed the server's certificate")
    .option('--format <format>', 'table or json', 'table');
}

function tokenOf(o: ServerOptions): string {
  const token = o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : process.env.PATCHLOOP_TOKEN?.trim();
  if (!token)
    throw new PatchloopError('PL_E_USAGE', 'an API token is needed: set PATCHLOOP_TOKEN or give --token-file FILE');
  return token;
}

function serverUrl(o: ServerOptions): URL {
  const raw = o.server ?? process.env.PATCHLOOP_SERVER;
  if (!raw) throw new PatchloopError('PL_E_USAGE', 'the server is needed: give --server URL or set PATCHLOOP_SERVER');
  try {
    return new URL(raw);
  } catch {
    throw new PatchloopError('PL_E_SERVER_ADDRESS', `not a URL: ${raw}`);
  }
}

/** One API call; the answer's JSON, or an error with the server's message. */
async function call<T>(o: ServerOptions, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<T> {
  const { createPool, readBody, send, jsonOrNull } = await import('../../net/http.ts');
  const base = serverUrl(o);
  const url = new URL(path, base);
  const pool = o.ca ? createPool({ caFile: o.ca, connections: 1 }) : undefined;
  try {
    const answer = await send(url, {
      method,
      headers: {
        authorization: `Bearer ${tokenOf(o)}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      pool,
      timeoutMs: TIMEOUT_MS,
    });
    const data = jsonOrNull(await readBody(answer, `${method} ${url.pathname}`, TIMEOUT_MS));
    if (answer.statusCode >= 400) {
      const message = (data as { message?: string } | null)?.message ?? `HTTP ${answer.statusCode}`;
      const details = (data as { details?: { path: string; message: string }[] } | null)?.details ?? [];
      const why = [message, ...details.map((d) => `${d.path}: ${d.message}`)].join('; ');
      throw new PatchloopError(
        answer.statusCode === 400 ? 'PL_E_USAGE' : 'PL_E_FAILED',
        `${method} ${url.pathname}: ${why}`,
      );
    }
    return data as T;
  } finally {
    await pool?.close();
  }
}

const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

function scopeText(scope: Record<string, string>): string {
  return Object.entries(scope)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function table(rules: Rule[]): string {
  const rows = [
    ['ID', 'STATE', 'KIND', 'SCOPE', 'HELD', 'EXPIRES', 'OWNER'],
    ...rules.map((r) => [
      String(r.id),
      r.state,
      r.kind,
      scopeText(r.scope),
      String(r.held),
      r.expires_at?.slice(0, 10) ?? '-',
      r.owner ?? '-',
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function details(r: Rule): string {
  const lines = [
    `exception ${r.id} (version ${r.version}): ${r.state}`,
    `  kind:          ${r.kind}`,
    `  scope:         ${scopeText(r.scope)}`,
    `  justification: ${r.justification}`,
    `  owner:         ${r.owner ?? '-'}`,
    `  created:       ${r.created_at} by ${r.created_by}`,
    `  expires:       ${r.expires_at ?? 'never'}`,
    `  holds:         ${counted(r.held, 'open finding')}`,
  ];
  if (r.revoked_at) lines.push(`  revoked:       ${r.revoked_at}${r.revoke_reason ? ` (${r.revoke_reason})` : ''}`);
  for (const v of r.versions ?? []) lines.push(`  v${v.version} ${v.change} at ${v.at} by ${v.by}`);
  return lines.join('\n');
}

function print(o: ServerOptions, value: unknown, text: () => string): void {
  out(o.format === 'json' ? JSON.stringify(value, null, 2) : text());
}

export function register(program: Command): void {
  const exceptions = program
    .command('exceptions')
    .description(
      'Exception rules on the server (accepted risks, false positives, mitigations, planned fixes): list, show, add, revoke, OpenVEX import and export',
    );

  serverOptions(exceptions.command('list'))
    .description('List rules, newest first, with the open findings each holds')
    .option('--state <state>', 'active, expired or revoked')
    .option('--kind <kind>', 'accepted_risk, false_positive, mitigated or will_fix_later')
    .option('--vulnerability <id>', 'rules scoped to this vulnerability')
    .option('--host <hostname>', 'rules scoped to this host')
    .option('--group <group>', 'rules scoped to this group')
    .option('--owner <owner>', 'rules of this owner')
    .action(async (o: ServerOptions & Record<string, string | undefined>) => {
      const q = new URLSearchParams();
      for (const k of ['state', 'kind', 'vulnerability', 'host', 'group', 'owner']) if (o[k]) q.set(k, o[k]!);
      const r = await call<{ summary: { excepted: number; expiring: number }; items: Rule[] }>(
        o,
        'GET',
        `/api/v1/exceptions${q.size ? `?${q}` : ''}`,
      );
      print(
        o,
        r,
        () =>
          `${table(r.items)}\n\nexcepted: ${counted(r.summary.excepted, 'open finding')}, ${r.summary.expiring} expiring within a week`,
      );
    });

  serverOptions(exceptions.command('show'))
    .description('One rule with every version of it')
    .argument('<id>', 'rule id')
    .action(async (id: string, o: ServerOptions) => {
      const r = await call<Rule>(o, 'GET', `/api/v1/exceptions/${encodeURIComponent(id)}`);
      print(o, r, () => details(r));
    });

  serverOptions(exceptions.command('add'))
    .description('Make a rule: the open findings it covers leave the open counts at once')
    .requiredOption('--kind <kind>', 'accepted_risk, false_positive, mitigated or will_fix_later')
    .requiredOption('--justification <text>', 'why (required)')
    .option('--vulnerability <id>', 'a vulnerability id or alias (no wildcards)')
    .option('--package <name>', 'a binary or source package name')
    .option('--package-version <version>', "only that package's installed (or source) version")
    .option('--host <hostname>', 'a host')
    .option('--group <group>', 'a host group')
    .option('--tag <tag>', 'a host tag')
    .option('--owner <owner>', 'who answers for it')
    .option('--expires <date>', 'expiry, a date (its end in UTC) or an ISO time; required for accepted_risk')
    .option('--cover-escalation', 'keep holding findings whose severity rose after the rule took them')
    .action(async (o: ServerOptions & Record<string, string | boolean | undefined>) => {
      const scope: Record<string, string> = {};
      for (const k of ['vulnerability', 'package', 'host', 'group', 'tag'])
        if (typeof o[k] === 'string') scope[k] = o[k] as string;
      if (typeof o.packageVersion === 'string') scope.version = o.packageVersion;
      const body = {
        scope,
        kind: o.kind,
        justification: o.justification,
        ...(o.owner ? { owner: o.owner } : {}),
        ...(o.expires ? { expires_at: o.expires } : {}),
        ...(o.coverEscalation ? { cover_escalation: true } : {}),
      };
      const r = await call<Rule>(o, 'POST', '/api/v1/exceptions', body);
      print(o, r, () => `created exception ${r.id}: holds ${counted(r.held, 'open finding')}`);
    });

  serverOptions(exceptions.command('update'))
    .description(
      'A new version of a rule in force: its justification, owner, expiry or escalation cover (scope and kind stay)',
    )
    .argument('<id>', 'rule id')
    .option('--justification <text>', 'why')
    .option('--owner <owner>', 'who answers for it')
    .option('--expires <date>', 'new expiry, a date (its end in UTC) or an ISO time')
    .option('--cover-escalation', 'keep holding findings whose severity rose after the rule took them')
    .option('--no-cover-escalation', 'give back findings whose severity rises (the default)')
    .action(async (id: string, o: ServerOptions & Record<string, string | boolean | undefined>) => {
      const body = {
        ...(typeof o.justification === 'string' ? { justification: o.justification } : {}),
        ...(typeof o.owner === 'string' ? { owner: o.owner } : {}),
        ...(typeof o.expires === 'string' ? { expires_at: o.expires } : {}),
        ...(typeof o.coverEscalation === 'boolean' ? { cover_escalation: o.coverEscalation } : {}),
      };
      const r = await call<Rule>(o, 'PATCH', `/api/v1/exceptions/${encodeURIComponent(id)}`, body);
      print(o, r, () => `exception ${r.id} is at version ${r.version}`);
    });

  serverOptions(exceptions.command('revoke'))
    .description('Revoke a rule: the findings it held reopen')
    .argument('<id>', 'rule id')
    .option('--reason <text>', 'why it is revoked')
    .action(async (id: string, o: ServerOptions & { reason?: string }) => {
      const r = await call<Rule>(
        o,
        'POST',
        `/api/v1/exceptions/${encodeURIComponent(id)}/revoke`,
        o.reason ? { reason: o.reason } : {},
      );
      print(o, r, () => `revoked exception ${r.id}`);
    });

  serverOptions(exceptions.command('import-vex'))
    .description('Import an OpenVEX document: each not_affected statement becomes a false-positive rule')
    .argument('<file>', 'OpenVEX JSON file')
    .action(async (file: string, o: ServerOptions) => {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new PatchloopError('PL_E_USAGE', `${file}: not a JSON document (${(err as Error).message})`);
      }
      const r = await call<{ created: Rule[]; skipped: { vulnerability: string; status: string; reason: string }[] }>(
        o,
        'POST',
        '/api/v1/exceptions/openvex',
        doc,
      );
      print(o, r, () =>
        [
          `created ${counted(r.created.length, 'rule')}: ${r.created.map((c) => c.id).join(', ') || '-'}`,
          ...r.skipped.map((s) => `skipped ${s.vulnerability} (${s.status}): ${s.reason}`),
        ].join('\n'),
      );
    });

  serverOptions(exceptions.command('export-vex'))
    .description("The fleet's rules in force that name a vulnerability, as an OpenVEX document")
    .option('--output <file>', 'write the document here (default: standard output)')
    .action(async (o: ServerOptions & { output?: string }) => {
      const doc = await call<unknown>(o, 'GET', '/api/v1/exceptions/openvex');
      const text = `${JSON.stringify(doc, null, 2)}\n`;
      if (o.output) writeFileSync(o.output, text);
      else out(text);
    });
}
