// `patchloop elastic …`: central logging to Elasticsearch / OpenSearch. `setup` installs the
// templates, lifecycle policies and dashboards; `export` runs the server's exporter once
// against its data directory; `status` shows how far it got; `dashboards` writes the saved
// objects (the NDJSON files in deploy/elastic are made with it).
import type { Command } from 'commander';
import { PatchloopError } from '../../core/errors.ts';
import { EXIT } from '../exit.ts';
import { counted } from '../../core/plural.ts';

interface ConnectionOptions {
  config?: string;
  dataDir?: string;
  url?: string;
  user?: string;
  passwordFile?: string;
  apiKeyFile?: string;
  ca?: string;
  prefix?: string;
}

const CONFIG_HELP =
  'server configuration file; its export: section names the cluster (default: /etc/patchloop/server.yaml when it exists)';

function connection(cmd: Command): Command {
  return cmd
    .option('--config <file>', CONFIG_HELP)
    .option('--url <url>', 'Elasticsearch / OpenSearch URL, e.g. https://search.example:9200 (default: export.url)')
    .option('--user <name>', 'basic authentication user (with --password-file)')
    .option('--password-file <file>', 'file holding the password')
    .option('--api-key-file <file>', 'file holding an API key (Elasticsearch "encoded" value, or id:key)')
    .option('--ca <file>', "PEM file with the CA that signed the cluster's certificate")
    .option('--prefix <prefix>', 'prefix of the index, data stream, template and policy names (default: patchloop)');
}

async function settings(opts: ConnectionOptions) {
  const { loadLocalExportSettings } = await import('../../server/export/local.ts');
  return loadLocalExportSettings(
    { config: opts.config, dataDir: opts.dataDir },
    {
      url: opts.url,
      username: opts.user,
      password_file: opts.passwordFile,
      api_key_file: opts.apiKeyFile,
      ca_file: opts.ca,
      prefix: opts.prefix,
    },
  );
}

function logger() {
  const warn = (m: string): void => void process.stderr.write(`patchloop: ${m}\n`);
  return { debug: () => {}, info: () => {}, warn };
}

export function register(program: Command): void {
  const elastic = program
    .command('elastic')
    .description('Central logging to Elasticsearch / OpenSearch: templates, dashboards, the server exporter');

  connection(elastic.command('setup'))
    .description(
      'Install the index templates and lifecycle policies, and import the dashboards into Kibana or OpenSearch Dashboards',
    )
    .option('--kibana <url>', 'import the saved objects into Kibana 8.x at this URL')
    .option('--dashboards <url>', 'import the saved objects into OpenSearch Dashboards 2.x at this URL')
    .option('--space <space>', 'Kibana space to import into (default: the default space)')
    .option('--tenant <tenant>', 'OpenSearch Dashboards tenant (security plugin), e.g. global')
    .option('--dashboards-user <name>', 'user for Kibana / OpenSearch Dashboards (default: the cluster credentials)')
    .option('--dashboards-password-file <file>', 'its password')
    .addHelpText(
      'after',
      `
Safe to repeat: templates and policies are updated in place, saved objects overwritten.
On OpenSearch without the ISM plugin the lifecycle policies are skipped with a warning.
The dashboards count days in the Kibana / OpenSearch Dashboards time zone (dateFormat:tz):
set it to UTC to see the same days as the patchloop server.`,
    )
    .action(
      async (
        opts: ConnectionOptions & {
          kibana?: string;
          dashboards?: string;
          space?: string;
          tenant?: string;
          dashboardsUser?: string;
          dashboardsPasswordFile?: string;
        },
      ) => {
        if (opts.kibana && opts.dashboards)
          throw new PatchloopError('PL_E_USAGE', 'give --kibana or --dashboards, not both');
        if (opts.dashboardsUser && !opts.dashboardsPasswordFile)
          throw new PatchloopError('PL_E_USAGE', '--dashboards-user needs --dashboards-password-file');
        const s = await settings(opts);
        if (!s.export)
          throw new PatchloopError(
            'PL_E_USAGE',
            'no cluster given: use --url (or export.url in the server configuration)',
          );
        const { exportClientOptions } = await import('../../server/export/config.ts');
        const { SearchClient } = await import('../../export/client.ts');
        const { exportNames } = await import('../../export/names.ts');
        const { setupCluster } = await import('../../export/setup.ts');
        const { readFileSync } = await import('node:fs');
        const clientOptions = exportClientOptions(s.export, s.server.data_dir);
        const client = new SearchClient(clientOptions, logger());
        try {
          const dashboardsUrl = opts.kibana ?? opts.dashboards;
          let dashboardsAuth = clientOptions.auth;
          if (opts.dashboardsUser) {
            dashboardsAuth = {
              username: opts.dashboardsUser,
              password: readFileSync(opts.dashboardsPasswordFile as string, 'utf8').replace(/\r?\n$/, ''),
            };
          }
          const report = await setupCluster(client, {
            names: exportNames(s.export.prefix),
            retention: {
              eventsDays: s.export.retention.events_days,
              summariesDays: s.export.retention.summaries_days,
              auditDays: s.export.retention.audit_days,
            },
            dashboards: dashboardsUrl
              ? {
                  url: dashboardsUrl,
                  flavor: opts.kibana ? 'kibana' : 'opensearch-dashboards',
                  auth: dashboardsAuth,
                  caFile: s.export.ca_file,
                  space: opts.space,
                  tenant: opts.tenant,
                }
              : undefined,
          });
          const i = report.install;
          const out: string[] = [
            `cluster: ${i.product.kind} ${i.product.version} at ${client.url}`,
            `lifecycle: ${i.lifecycle}${i.policies.length ? ` (${i.policies.join(', ')})` : ''}`,
            `templates: ${i.componentTemplates.length} component, ${i.indexTemplates.length} index (${i.indexTemplates.join(', ')})`,
            `created: ${i.created.length ? i.created.join(', ') : 'nothing new (mappings updated)'}`,
          ];
          if (report.dashboards) {
            out.push(
              `dashboards: ${report.dashboards.successCount} of ${report.dashboards.objects} saved objects imported into ${dashboardsUrl}`,
            );
            for (const e of report.dashboards.errors) out.push(`  refused: ${e.type} ${e.id}: ${e.error}`);
          }
          process.stdout.write(`${out.join('\n')}\n`);
          if (report.dashboards && report.dashboards.errors.length > 0)
            throw new PatchloopError(
              'PL_E_FAILED',
              `the cluster refused ${counted(report.dashboards.errors.length, 'saved object')}`,
            );
        } finally {
          await client.close();
        }
      },
    );

  connection(elastic.command('export'))
    .description("Run the server's exporter once: every change since the last run (the first run builds the indices)")
    .option('--data-dir <dir>', 'server data directory (default: data_dir of the configuration)')
    .option('--rebuild', 'recreate the state indices from the store and resend the whole history')
    .option('--drop-events', 'with --rebuild: also delete and rebuild the vulnerability event stream')
    .option('--json', 'print the run report as JSON')
    .addHelpText(
      'after',
      `
The server may be running meanwhile (it runs the same exporter on its own schedule when its
configuration has an export: section); two exporters never run at once. Exit status 75 when
the cluster was unavailable (unreachable, or not taking the documents): the reason is on
stderr, no summary on stdout; nothing is lost, the next run continues where this one stopped.`,
    )
    .action(async (opts: ConnectionOptions & { rebuild?: boolean; dropEvents?: boolean; json?: boolean }) => {
      if (opts.dropEvents && !opts.rebuild) throw new PatchloopError('PL_E_USAGE', '--drop-events goes with --rebuild');
      const s = await settings(opts);
      if (!s.export)
        throw new PatchloopError(
          'PL_E_USAGE',
          'no cluster given: use --url (or export.url in the server configuration)',
        );
      const { openServerStore } = await import('../../server/export/local.ts');
      const { createStoreExporter } = await import('../../server/export/job.ts');
      const store = openServerStore(s.server);
      // Ranked with the configuration's priority: rule, as the server ranks them.
      const exporter = createStoreExporter(store, s.export, s.server.data_dir, logger(), s.server.priority);
      try {
        const report = opts.rebuild
          ? await exporter.rebuild({ dropEvents: opts.dropEvents })
          : await exporter.runOnce();
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          const t = report.sent;
          const documents =
            `documents of ${counted(t.hosts, 'host')}, ${counted(t.findings, 'finding')}, ${counted(t.events, 'event')}, ${counted(t.patchRuns, 'patch run')}, ${counted(t.summaries, 'summary', 'summaries')}, ${counted(t.audit, 'audit entry', 'audit entries')}; ` +
            `${counted(t.removedHosts, 'removed host')}, ${t.purged} purged; ${report.bulk.rejected} rejected` +
            `${report.cursor ? `; cursor events ${report.cursor.events}, updates ${report.cursor.changes}, patch runs ${report.cursor.runs}` : ''}`;
          // A run the cluster stopped is no export: only the steps it took before it stopped
          // are worth a line (their cursor moved; a rebuild cut short is redone whole).
          if (!report.unavailable) process.stdout.write(`${report.rebuilt ? 'rebuilt' : 'exported'}: ${documents}\n`);
          else if (report.steps > 0)
            process.stdout.write(`partly exported before the cluster became unavailable: ${documents}\n`);
        }
        if (report.unavailable) {
          process.stderr.write(
            `patchloop: export not done, cluster unavailable: ${report.unavailable}\n` +
              'patchloop: nothing is lost: the next run continues from here\n',
          );
          // The cluster was unavailable: the export resumes from where it stopped.
          process.exitCode = EXIT.tempfail;
        } else if (report.bulk.rejected > 0) {
          process.stderr.write(
            `patchloop: the cluster rejected ${counted(report.bulk.rejected, 'document')}, kept in ${exporter.client.options.deadLetterFile}\n`,
          );
        }
      } finally {
        await exporter.client.close();
        store.close();
      }
    });

  connection(elastic.command('status'))
    .description("Show the exporter's progress in a server store, and the cluster's document counts when it answers")
    .option('--data-dir <dir>', 'server data directory (default: data_dir of the configuration)')
    .option('--json', 'print as JSON')
    .action(async (opts: ConnectionOptions & { json?: boolean }) => {
      const s = await settings(opts);
      const { openServerStore, exportStatus } = await import('../../server/export/local.ts');
      const store = openServerStore(s.server);
      let status;
      try {
        status = exportStatus(store);
      } finally {
        store.close();
      }
      let cluster: Record<string, unknown> | null = null;
      if (s.export) {
        const { exportClientOptions } = await import('../../server/export/config.ts');
        const { SearchClient } = await import('../../export/client.ts');
        const { exportNames } = await import('../../export/names.ts');
        const client = new SearchClient(
          { ...exportClientOptions(s.export, s.server.data_dir), retry: { maxRetries: 0 } },
          logger(),
        );
        const names = exportNames(s.export.prefix);
        try {
          const product = await client.info();
          const counts: Record<string, number | null> = {};
          for (const target of [
            names.findings,
            names.hosts,
            names.vulnerabilityEvents,
            names.patchEvents,
            names.hostSummaries,
            names.audit,
          ]) {
            const r = await client.request<{ count?: number }>({
              method: 'GET',
              path: `/${encodeURIComponent(target)}/_count`,
              accept: [404],
            });
            counts[target] = r.status === 404 ? null : (r.body.count ?? null);
          }
          cluster = { url: client.url, product: `${product.kind} ${product.version}`, documents: counts };
        } catch (err) {
          cluster = { url: client.url, error: (err as Error).message };
        } finally {
          await client.close();
        }
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...status, cluster }, null, 2)}\n`);
        return;
      }
      const lines = [
        `exporter: ${status.configured ? 'set up' : 'never ran on this store'}${status.needs_rebuild ? ' (next run rebuilds the indices)' : ''}`,
        `target: ${status.target ?? '-'}`,
        `cursor: ${status.cursor ? `events ${status.cursor.events}, updates ${status.cursor.changes}, patch runs ${status.cursor.runs}` : '-'}`,
        `backlog: ${counted(status.backlog.finding_events, 'finding event')} in ${counted(status.backlog.event_rows, 'event row')}, ${counted(status.backlog.updates, 'in-place update')}, ${counted(status.backlog.patch_runs, 'patch run')}`,
        `last run: ${status.last_run_at ?? '-'}; last success: ${status.last_success_at ?? '-'}`,
        `last error: ${status.last_error ?? '-'}`,
        `host summaries written up to: ${status.summary_day ?? '-'}`,
        `running now: ${status.lease ? `${status.lease.owner} (until ${status.lease.until})` : 'no'}`,
      ];
      if (cluster) {
        if ('error' in cluster) lines.push(`cluster: ${String(cluster.url)}: ${String(cluster.error)}`);
        else {
          lines.push(`cluster: ${String(cluster.product)} at ${String(cluster.url)}`);
          for (const [target, n] of Object.entries(cluster.documents as Record<string, number | null>))
            lines.push(`  ${target}: ${n === null ? 'missing' : counted(n, 'document')}`);
        }
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  elastic
    .command('dashboards')
    .description('Write the Kibana and OpenSearch Dashboards saved objects (NDJSON) for an index prefix')
    .option('--prefix <prefix>', 'index prefix the objects read (default: patchloop)', 'patchloop')
    .option('--out <dir>', 'write kibana.ndjson and opensearch-dashboards.ndjson into this directory')
    .option(
      '--flavor <flavor>',
      'without --out: print the objects for kibana or opensearch-dashboards on stdout',
      'kibana',
    )
    .action(async (opts: { prefix: string; out?: string; flavor: string }) => {
      const { savedObjects, toNdjson, NDJSON_FILES } = await import('../../export/dashboards/saved-objects.ts');
      const { exportNames } = await import('../../export/names.ts');
      let names;
      try {
        names = exportNames(opts.prefix);
      } catch (err) {
        throw new PatchloopError('PL_E_USAGE', (err as Error).message);
      }
      if (!opts.out) {
        if (opts.flavor !== 'kibana' && opts.flavor !== 'opensearch-dashboards')
          throw new PatchloopError('PL_E_USAGE', '--flavor is kibana or opensearch-dashboards');
        process.stdout.write(toNdjson(savedObjects(opts.flavor, names)));
        return;
      }
      const { mkdirSync, writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      mkdirSync(opts.out, { recursive: true });
      for (const flavor of ['kibana', 'opensearch-dashboards'] as const) {
        const file = join(opts.out, NDJSON_FILES[flavor]);
        const objects = savedObjects(flavor, names);
        writeFileSync(file, toNdjson(objects));
        process.stderr.write(`${file}: ${counted(objects.length, 'saved object')}\n`);
      }
    });
}
