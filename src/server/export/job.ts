// The exporter as a background job of the running server: one run every `interval`, never
// two at once, never holding up report ingest (a run only reads the store between awaits and
// writes its own small tables). A failed or partial run is logged and retried on schedule.
import type { Logger } from 'pino';
import type { PriorityConfig } from '../../core/priority.ts';
import { SearchClient, type ExportLogger } from '../../export/client.ts';
import { exportNames } from '../../export/names.ts';
import type { Store } from '../store/store.ts';
import { exportClientOptions, type ExportConfig } from './config.ts';
import { exportEnrichment } from './enrichment.ts';
import { StoreExporter, type ExportRunReport } from './exporter.ts';

export interface ExportJob {
  exporter: StoreExporter;
  /** Runs now (or waits for the run in progress) and resolves with its report. */
  runNow(): Promise<ExportRunReport | null>;
  /** The last finished run's report, or null. */
  last(): ExportRunReport | null;
  stop(): Promise<void>;
}

export function pinoExportLogger(log: Logger): ExportLogger {
  return { debug: (m) => log.debug(m), info: (m) => log.info(m), warn: (m) => log.warn(m) };
}

/**
 * Builds the exporter for a store from the `export:` settings. `priority`: the server's rule, for an
 * exporter run on its own (a running server's store is ranked with the rule it already has).
 */
export function createStoreExporter(
  store: Store,
  config: ExportConfig,
  dataDir: string,
  logger: ExportLogger,
  priority?: PriorityConfig,
): StoreExporter {
  const client = new SearchClient(exportClientOptions(config, dataDir), logger);
  exportEnrichment(store, dataDir, priority);
  const names = exportNames(config.prefix);
  return new StoreExporter(store, client, {
    names,
    target: `${client.url}|${config.prefix}`,
    batch: config.batch,
    hostsPerStep: config.hosts_per_step,
    retention: {
      resolved: config.retention.resolved,
      stale: config.retention.stale,
      eventsDays: config.retention.events_days,
      summariesDays: config.retention.summaries_days,
      auditDays: config.retention.audit_days,
    },
    logger,
  });
}

export function startExportJob(store: Store, config: ExportConfig, dataDir: string, log: Logger): ExportJob {
  const logger = pinoExportLogger(log);
  const exporter = createStoreExporter(store, config, dataDir, logger);
  let running: Promise<ExportRunReport | null> | null = null;
  let last: ExportRunReport | null = null;
  let stopped = false;

  const run = (): Promise<ExportRunReport | null> => {
    if (running) return running;
    running = (async () => {
      try {
        const report = await exporter.runOnce();
        last = report;
        const { sent } = report;
        if (
          report.unavailable === null &&
          (sent.hosts ||
            sent.findings ||
            sent.events ||
            sent.patchRuns ||
            sent.summaries ||
            sent.audit ||
            sent.removedHosts ||
            sent.purged)
        ) {
          log.info(
            { ...sent, rebuilt: report.rebuilt, steps: report.steps, rejected: report.bulk.rejected },
            'export: documents written',
          );
        }
        return report;
      } catch (err) {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'export run failed');
        return null;
      } finally {
        running = null;
      }
    })();
    return running;
  };

  const timer = setInterval(() => {
    if (!stopped) void run();
  }, config.interval);
  timer.unref();
  // First run soon after start, not at once: start-up work (re-matches) goes first.
  const first = setTimeout(() => void run(), Math.min(5_000, config.interval));
  first.unref();

  return {
    exporter,
    runNow: run,
    last: () => last,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      clearTimeout(first);
      await running;
      await exporter.client.close();
    },
  };
}
