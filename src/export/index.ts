// Public surface of the Elasticsearch/OpenSearch export: client, documents, templates.
export {
  SearchClient,
  ClusterError,
  silentLogger,
  type ExportLogger,
  type RequestSpec,
  type ClusterResponse,
} from './client.ts';
export { parseClientOptions, clientOptionsSchema, type ClientOptions, type ClientOptionsInput } from './options.ts';
export { detectProduct, mediaTypes, lifecycleKind, type Product, type ProductKind } from './product.ts';
export {
  bulk,
  planBatches,
  classifyItem,
  type BulkItem,
  type BulkReport,
  type BulkOptions,
  type RejectedItem,
} from './bulk.ts';
export { Spool, ship, type ShipReport } from './spool.ts';
export { readDeadLetters, type DeadLetter } from './deadletter.ts';
export { exportNames, DEFAULT_PREFIX, type ExportNames } from './names.ts';
export * from './records.ts';
export {
  findingId,
  findingDocument,
  findingItem,
  findingDeleteItem,
  vulnerabilityEventDocument,
  vulnerabilityEventItem,
  patchRunDocument,
  patchRunItem,
  hostSummaryDocument,
  hostSummaryItem,
  hostStateId,
  hostStateDocument,
  hostStateItem,
  hostStateDeleteItem,
  ECS_VERSION,
} from './ecs.ts';
export { findingRecordsFromScan, type ScanLike, type ScanRecordOptions } from './scan-records.ts';
export { buildTemplates, TEMPLATE_VERSION, type TemplateSet } from './templates.ts';
export { DEFAULT_RETENTION, ilmPolicy, ismPolicy, type RetentionSettings } from './lifecycle.ts';
export { installTemplates, ISM_PLUGIN, type InstallOptions, type InstallReport } from './install.ts';
export { purgeFindings, deleteHostFindings, deleteHosts, type PurgeOptions } from './state.ts';
export { setupCluster, type SetupOptions, type SetupReport } from './setup.ts';
export {
  shipScanResults,
  shipPatchRun,
  nextScanState,
  patchRunRecord,
  patchOutcome,
  type ScanShipOptions,
  type ScanShipReport,
} from './agent-ship.ts';
export { savedObjects, toNdjson, NDJSON_FILES, type Flavor, type SavedObject } from './dashboards/saved-objects.ts';
export { PANELS, type PanelSpec } from './dashboards/panels.ts';
export { panelRequest, panelRows, type PanelRequest, type PanelRow } from './dashboards/request.ts';
export { importSavedObjects, type ImportOptions, type ImportReport } from './dashboards/import.ts';
