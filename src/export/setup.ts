// `patchloop elastic setup`: templates and lifecycle policies into the cluster, and the
// dashboards into Kibana or OpenSearch Dashboards.
import type { SearchClient } from './client.ts';
import { importSavedObjects, type ImportOptions, type ImportReport } from './dashboards/import.ts';
import { savedObjects, toNdjson } from './dashboards/saved-objects.ts';
import { installTemplates, type InstallReport } from './install.ts';
import type { RetentionSettings } from './lifecycle.ts';
import type { ExportNames } from './names.ts';

export interface SetupOptions {
  names: ExportNames;
  retention?: Partial<RetentionSettings>;
  /** Where to import the saved objects; none: templates only. */
  dashboards?: ImportOptions;
}

export interface SetupReport {
  install: InstallReport;
  dashboards: (ImportReport & { objects: number }) | null;
}

export async function setupCluster(client: SearchClient, options: SetupOptions): Promise<SetupReport> {
  const install = await installTemplates(client, { names: options.names, retention: options.retention });
  if (!options.dashboards) return { install, dashboards: null };
  const objects = savedObjects(options.dashboards.flavor, options.names);
  const imported = await importSavedObjects(toNdjson(objects), options.dashboards);
  return { install, dashboards: { ...imported, objects: objects.length } };
}
