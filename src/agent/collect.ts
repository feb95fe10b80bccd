// What the agent reports about its host: the inventory (packages, os-release, running
// kernel) plus identity and reboot state, as one snapshot ready to spool and send.
import { existsSync, readFileSync } from 'node:fs';
import { hostname as systemHostname } from 'node:os';
import { join } from 'node:path';
import { LIMITS, PackageSchema, toWirePackage, type HostFacts, type WirePackage } from '../core/protocol.ts';
import { readInventory } from '../inventory/index.ts';
import { isHostRoot } from '../inventory/rootfs.ts';

export interface Snapshot {
  collected_at: string;
  host: HostFacts;
  packages: WirePackage[];
  warnings: string[];
}

export interface CollectOptions {
  root: string;
  kernel?: string;
  hostname?: string;
  proAttached?: boolean;
  now?: () => Date;
}

function readFirstLine(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').split('\n')[0].trim() || null;
  } catch {
    return null;
  }
}

export async function collectSnapshot(o: CollectOptions): Promise<Snapshot> {
  const inv = await readInventory(o.root, { kernel: o.kernel });
  const machineId = readFirstLine(join(o.root, 'etc/machine-id'));
  const hostname =
    o.hostname ??
    (isHostRoot(o.root) ? systemHostname() : (readFirstLine(join(o.root, 'etc/hostname')) ?? systemHostname()));
  // Debian/Ubuntu: update-notifier / needrestart / unattended-upgrades leave this file.
  const rebootFile = ['run/reboot-required', 'var/run/reboot-required']
    .map((f) => join(o.root, f))
    .find((f) => existsSync(f));
  const rebootPkgs =
    rebootFile && existsSync(`${rebootFile}.pkgs`)
      ? readFileSync(`${rebootFile}.pkgs`, 'utf8').split('\n').filter(Boolean).slice(0, 500)
      : undefined;
  const host: HostFacts = {
    hostname: hostname.slice(0, 253),
    os: {
      id: inv.os.id,
      version_id: inv.os.version_id,
      codename: inv.os.codename,
      pretty_name: inv.os.pretty_name,
      ...(inv.os.id_like?.length ? { id_like: inv.os.id_like } : {}),
    },
    kernel: inv.kernel,
    reboot_required: rebootFile !== undefined,
  };
  if (machineId && /^[0-9a-f]{32}$/.test(machineId)) host.machine_id = machineId;
  if (rebootPkgs) host.reboot_required_packages = rebootPkgs;
  if (o.proAttached !== undefined) host.pro_attached = o.proAttached;
  if (inv.os.id === 'alpine') {
    const { alpineBranch } = await import('../inventory/os-release.ts');
    const b = await alpineBranch(o.root, inv.os.version_id);
    if (b.branch) host.release = b.branch;
  }
  const { packages, skipped } = reportable(inv.packages.map(toWirePackage));
  return {
    collected_at: (o.now?.() ?? new Date()).toISOString(),
    host,
    packages,
    warnings: [...skipped, ...(inv.warnings ?? [])].slice(0, LIMITS.warnings).map((w) => w.slice(0, LIMITS.longText)),
  };
}

/**
 * Packages the server would refuse (a field beyond the protocol's limits, from a damaged
 * package database record) are left out with a warning naming them: one bad record must not
 * stop the whole host from reporting.
 */
function reportable(all: WirePackage[]): { packages: WirePackage[]; skipped: string[] } {
  const packages: WirePackage[] = [];
  const skipped: string[] = [];
  for (const p of all) {
    const r = PackageSchema.safeParse(p);
    if (r.success) packages.push(p);
    else
      skipped.push(
        `package ${JSON.stringify(p.name.slice(0, 100))} left out of the report: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
  }
  return { packages, skipped };
}
