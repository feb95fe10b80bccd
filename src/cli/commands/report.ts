// `patchloop report --month YYYY-MM`: the monthly management report (PDF and HTML printed by
// Chromium from the dashboard's report page, and its JSON) from a running server's API (--server,
// with an API token from PATCHLOOP_TOKEN or --token-file), or from a server's data directory
// while that server is stopped (--data-dir / --config: the server is started on loopback for the
// run, and its own API answers).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PatchloopError } from '../../core/errors.ts';

interface ReportOptions {
  month?: string;
  server?: string;
  tokenFile?: string;
  ca?: string;
  dataDir?: string;
  config?: string;
  out: string;
  chromium?: string;
}

const TIMEOUT_MS = 120_000;

/** The last whole month in UTC, `2026-11` in December 2026. */
function lastMonth(): string {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

export function register(program: Command): void {
  program
    .command('report')
    .description('Make the monthly management report (PDF, HTML and JSON) of a server')
    .option('--month <YYYY-MM>', 'the month (UTC) to report on (default: the last whole month)')
    .option('--server <url>', 'a running server (default: $PATCHLOOP_SERVER)')
    .option('--token-file <file>', 'file holding an API token, viewer or more (default: the token in $PATCHLOOP_TOKEN)')
    .option('--ca <file>', "PEM file with the CA that signed the server's certificate")
    .option('--data-dir <dir>', "a stopped server's data directory, instead of --server")
    .option('--config <file>', "the stopped server's configuration (server.yaml), instead of --server")
    .option('--out <dir>', 'where to write patchloop-report-MONTH.{pdf,html,json}', '.')
    .option(
      '--chromium <path>',
      'the Chromium that prints the PDF (default: $PATCHLOOP_CHROMIUM, else /usr/bin/chromium)',
    )
    .addHelpText(
      'after',
      "\nThe PDF and the HTML are the dashboard's report page printed by headless Chromium (Debian: apt-get install chromium).\n" +
        'Exit status: 0 written; 1 the report could not be made (the reason is printed); 2 usage error.',
    )
    .action(async (opts: ReportOptions) => {
      const { MonthSchema } = await import('../../server/report/schema.ts');
      const month = opts.month ?? lastMonth();
      const m = MonthSchema.safeParse(month);
      if (!m.success) throw new PatchloopError('PL_E_USAGE', `--month: ${m.error.issues[0].message}`);
      const local = opts.dataDir !== undefined || opts.config !== undefined;
      const server = opts.server ?? (local ? undefined : process.env.PATCHLOOP_SERVER);
      if (local && opts.server)
        throw new PatchloopError('PL_E_USAGE', 'give --server or --data-dir/--config, not both');
      if (!local && !server)
        throw new PatchloopError(
          'PL_E_USAGE',
          "which server? give --server URL (or set PATCHLOOP_SERVER), or a stopped server's --data-dir / --config",
        );
      const { findChromium, renderReport } = await import('../../server/report/render.ts');
      // Before any work: a missing Chromium is the most likely failure, and the clearest to say.
      const chromium = findChromium(opts.chromium);
      const out = resolve(opts.out);
      const files = server
        ? await renderReport(await fromServer(server, opts, month), out, { chromium })
        : await fromDataDir(opts, month, out, chromium);
      process.stdout.write(`${files.pdf}\n${files.html}\n${files.json}\n`);
    });
}

/** The report from a running server's API over HTTP. */
async function fromServer(server: string, o: ReportOptions, month: string) {
  const { collectReport } = await import('../../server/report/collect.ts');
  const { createPool, readBody, send, jsonOrNull } = await import('../../net/http.ts');
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new PatchloopError('PL_E_SERVER_ADDRESS', `not a URL: ${server}`);
  }
  const token = o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : process.env.PATCHLOOP_TOKEN?.trim();
  if (!token)
    throw new PatchloopError('PL_E_USAGE', 'an API token is needed: set PATCHLOOP_TOKEN or give --token-file FILE');
  const pool = o.ca ? createPool({ caFile: o.ca, connections: 1 }) : undefined;
  try {
    return await collectReport(
      async (path) => {
        const url = new URL(path, base);
        const answer = await send(url, {
          method: 'GET',
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          pool,
          timeoutMs: TIMEOUT_MS,
        });
        return {
          status: answer.statusCode,
          body: jsonOrNull(await readBody(answer, `GET ${url.pathname}`, TIMEOUT_MS)),
        };
      },
      month,
      Date.now(),
      base.origin,
    );
  } finally {
    await pool?.close();
  }
}

/** The report of a stopped server: started on loopback for this run, its own API answering. */
async function fromDataDir(o: ReportOptions, month: string, out: string, chromium: string) {
  const { readConfig, withOverrides } = await import('../../config/load.ts');
  const { DEFAULT_CONFIG_FILE, resolveConfig } = await import('../../server/config.ts');
  const { startServer } = await import('../../server/server.ts');
  const { makeMonthlyReport } = await import('../../server/report/routes.ts');
  const { existsSync } = await import('node:fs');
  const pino = (await import('pino')).default;
  const source = readConfig(o.config, DEFAULT_CONFIG_FILE);
  const config = resolveConfig(
    withOverrides(source, {
      data_dir: o.dataDir,
      listen: { host: '127.0.0.1', port: 0 },
      tls: undefined,
    }),
  );
  if (!existsSync(config.store.file))
    throw new PatchloopError(
      'PL_E_USAGE',
      `no server store at ${config.store.file}: is the data directory (${config.data_dir}) right?`,
    );
  // No feed refresh and no notifications from this run: it only reads.
  const running = await startServer(
    {
      ...config,
      feeds: { ...config.feeds, refresh_interval: 0 },
      notifications: { ...config.notifications, channels: [] },
    },
    { logger: pino({ level: 'silent' }) },
  );
  try {
    return await makeMonthlyReport(running.app, running.ctx, month, { outDir: out, chromium, source: config.data_dir });
  } finally {
    await running.close();
  }
}
