// The two renderings of an inventory: the JSON contract of `patchloop inventory` (DESIGN.md)
// and an aligned table for people.
import { toWirePackage, type WirePackage } from '../core/protocol.ts';
import type { Inventory } from '../core/types.ts';
import { comparePackages } from './index.ts';

/**
 * One package as the JSON contract lists it: the six contract fields first, rpm extras when set —
 * the fields the agent sends (one shape for both).
 */
export type PackageJson = WirePackage;

export interface InventoryJson {
  os: { id: string; version_id: string; codename: string; pretty_name: string; id_like: string[] };
  kernel: string | null;
  packages: PackageJson[];
  warnings: string[];
}

/** The JSON document (contract keys in contract order; `warnings` always present). */
export function inventoryJson(inv: Inventory): InventoryJson {
  return {
    os: {
      id: inv.os.id,
      version_id: inv.os.version_id,
      codename: inv.os.codename,
      pretty_name: inv.os.pretty_name,
      id_like: inv.os.id_like ?? [],
    },
    kernel: inv.kernel,
    packages: [...inv.packages].sort(comparePackages).map(toWirePackage),
    warnings: inv.warnings ?? [],
  };
}

const HEADERS = ['NAME', 'VERSION', 'ARCH', 'SOURCE', 'SOURCE VERSION', 'FORMAT'];

/** A summary of the host, then one aligned row per package sorted by name. */
export function inventoryTable(inv: Inventory): string {
  const os = inv.os;
  const osLine = [
    os.pretty_name || '(unknown)',
    `[id ${os.id || '?'}, version ${os.version_id || '?'}, codename ${os.codename || '?'}]`,
  ].join(' ');
  const rows = [...inv.packages]
    .sort(comparePackages)
    .map((p) => [p.name, p.version, p.arch || '-', p.source, p.source_version, p.format]);
  return (
    [
      `OS:       ${osLine}`,
      `Kernel:   ${inv.kernel ?? 'unknown'}`,
      `Packages: ${rows.length}`,
      '',
      ...alignColumns([HEADERS, ...rows]),
    ].join('\n') + '\n'
  );
}

/** Pads every column but the last to its widest cell, two spaces apart. */
export function alignColumns(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '));
}
