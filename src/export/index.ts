// Public surface of the Elasticsearch/OpenSearch export: client, documents, templates.
export { SearchClient, ClusterError, silentLogger, type ExportLogger, type RequestSpec, type ClusterResponse } from './client.ts';
export { parseClientOptions, clientOptionsSchema, type ClientOptions, type ClientOptionsInput } from './options.ts';
export { detectProduct, mediaTypes, lifecycleKind, type Product, type ProductKind } from './product.ts';
export { bulk, planBatches, classifyItem, type BulkItem, type BulkReport, type BulkOptions, type RejectedItem } from './bulk.ts';
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
  ECS_VERSION,
} from './ecs.ts';
export { findingRecordsFromScan, type ScanLike, type ScanRecordOptions } from './scan-records.ts';
export { buildTemplates, TEMPLATE_VERSION, type TemplateSet } from './templates.ts';
export { DEFAULT_RETENTION, ilmPolicy, ismPolicy, type RetentionSettings } from './lifecycle.ts';
export { installTemplates, ISM_PLUGIN, type InstallOptions, type InstallReport } from './install.ts';
export { purgeFindings, deleteHostFindings, type PurgeOptions } from './state.ts';
