// The exporter run from the command line against a server's data directory (the server may
// be running: the store is shared through SQLite's WAL, and the exporter's lease keeps two
// exporters from running at once): configuration, the store, status.
import { existsSync } from 'node:fs';
import { systemClock, type Clock } from '../clock.ts';
import { ConfigError, readConfig, withOverrides } from '../../config/load.ts';
import { DEFAULT_CONFIG_FILE, resolveConfig, type ServerConfig } from '../config.ts';
import { Store } from '../store/store.ts';
import { resolveExportConfig, type ExportConfig, type ExportConfigInput } from './config.ts';
import { hasPatchRuns } from './source.ts';
import { exportTablesExist, ExportState, type ExportCursor } from './tables.ts';

export interface LocalExportSettings {
  server: ServerConfig;
  /** Null when neither the file, the environment nor the command line name a cluster. */
  export: ExportConfig | null;
  file: string | null;
}

/**
 * Reads the server configuration (the `export:` section is taken out and validated on its
 * own) with command-line values on top: `dataDir`, and export settings in `overrides`.
 */
export function loadLocalExportSettings(
  options: { config?: string; dataDir?: string },
  overrides: Partial<ExportConfigInput> = {},
  env: NodeJS.ProcessEnv = process.env,
): LocalExportSettings {
  const source = withOverrides(readConfig(options.config, DEFAULT_CONFIG_FILE), { data_dir: options.dataDir });
  const { export: _section, ...server } = source.data;
  return {
    server: resolveConfig({ ...source, data: server }),
    export: resolveExportConfig(source, env, overrides),
    file: source.file,
  };
}

/** Opens the server's store with the server's SLA and stale settings; it must exist. */
export function openServerStore(server: ServerConfig, clock: Clock = systemClock): Store {
  if (!existsSync(server.store.file)) {
    throw new ConfigError(`no server store at ${server.store.file} (give the server's --config or --data-dir)`);
  }
  return Store.open(server.store.file, clock, { slaDays: server.sla_days, staleAfterMs: server.stale_after });
}

export interface ExportStatus {
  configured: boolean;
  target: string | null;
  cursor: ExportCursor | null;
  /** Store event rows, in-place updates and patch runs not exported yet. */
  backlog: { event_rows: number; finding_events: number; updates: number; patch_runs: number };
  last_run_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  summary_day: string | null;
  needs_rebuild: boolean;
  lease: { owner: string; until: string } | null;
}

/** The exporter's state in a store, read-only (nothing is created when it never ran). */
export function exportStatus(store: Store): ExportStatus {
  const events = store.get<{ n: number | null; items: number | null }>(
    'SELECT count(*) AS n, sum(count) AS items FROM events',
  )!;
  const runsAfter = (rowid: number): number =>
    hasPatchRuns(store)
      ? store.get<{ n: number }>('SELECT count(*) AS n FROM patch_runs WHERE rowid > ?', rowid)!.n
      : 0;
  if (!exportTablesExist(store)) {
    return {
      configured: false,
      target: null,
      cursor: null,
      backlog: { event_rows: events.n ?? 0, finding_events: events.items ?? 0, updates: 0, patch_runs: runsAfter(0) },
      last_run_at: null,
      last_success_at: null,
      last_error: null,
      summary_day: null,
      needs_rebuild: true,
      lease: null,
    };
  }
  const state = new ExportState(store);
  const cursor = state.cursor();
  const after = cursor?.events ?? 0;
  const pending = store.get<{ n: number; items: number | null }>(
    'SELECT count(*) AS n, sum(count) AS items FROM events WHERE id > ?',
    after,
  )!;
  const updates = store.get<{ n: number }>(
    'SELECT count(*) AS n FROM export_changes WHERE seq > ?',
    cursor?.changes ?? 0,
  )!.n;
  const day = state.number('summary_day');
  const lease = state.get('lease');
  const parsedLease = lease ? (JSON.parse(lease) as { owner: string; until: number }) : null;
  return {
    configured: true,
    target: state.get('target') ?? null,
    cursor,
    backlog: {
      event_rows: pending.n,
      finding_events: pending.items ?? 0,
      updates,
      patch_runs: runsAfter(cursor?.runs ?? 0),
    },
    last_run_at: state.get('last_run_at') ?? null,
    last_success_at: state.get('last_success_at') ?? null,
    last_error: state.get('last_error') || null,
    summary_day: day === null ? null : new Date(day * 86_400_000).toISOString().slice(0, 10),
    needs_rebuild: cursor === null || state.get('needs_rebuild') === '1',
    lease:
      parsedLease && parsedLease.until > Date.now()
        ? { owner: parsedLease.owner, until: new Date(parsedLease.until).toISOString() }
        : null,
  };
}
