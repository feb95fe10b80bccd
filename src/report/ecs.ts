// ECS documents for one scan, as NDJSON (one finding-state document per line) for Filebeat /
// Logstash or a direct _bulk. Uses the exporter's mapping so both paths write the same shape.
import type { ScanReport } from '../agent/scan.ts';

export function renderEcsNdjson(_report: ScanReport): string {
  throw new Error('ECS output is not available yet');
}
