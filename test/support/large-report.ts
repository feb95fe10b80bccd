// Large inventory reports: a real host's packages (so the report has real findings) padded
// with distinct made-up packages up to the size wanted, the way a host with a huge package
// database — or one sending junk — would report them. Used by the ingest benchmark and by the
// tests that load the server with a 100,000-package report.
import { toWirePackage, type Report, type WirePackage } from '../../src/core/protocol.ts';
import type { Inventory } from '../../src/core/types.ts';
import { storedReportOf } from './server.ts';

/**
 * `total` packages: the inventory's own, then `bulk-<tag>-<n>` packages (each tag gives packages
 * no other tag has, so a stream of tags is a stream of never-seen packages).
 */
export function largeInventory(base: Inventory, total: number, tag: string): WirePackage[] {
  const packages = base.packages.slice(0, total).map(toWirePackage);
  for (let i = packages.length; i < total; i++) {
    const v = `${1 + (i % 9)}.${i % 31}.${i}-${1 + (i % 4)}`;
    packages.push({
      name: `bulk-${tag}-${i}`,
      version: v,
      arch: 'amd64',
      source: `bulk-src-${tag}-${Math.floor(i / 3)}`,
      source_version: v,
      format: 'deb',
    });
  }
  return packages;
}

/** A full report of these packages, as the server holds it after validation. */
export function fullReport(base: Inventory, packages: WirePackage[], hostname: string): Report {
  return storedReportOf({ ...base, packages }, hostname);
}
