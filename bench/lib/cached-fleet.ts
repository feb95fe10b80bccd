// A fleet built through the real API (test/support/dashboard-fleet.ts) for benchmarks that read a
// server store with history: built once into .cache/bench/<name>, reused by later runs, built again
// with --fresh.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFleet, type Fleet, type FleetSpec } from '../../test/support/dashboard-fleet.ts';
import type { BenchContext } from './context.ts';

export async function cachedFleet(ctx: BenchContext, name: string, spec: FleetSpec): Promise<Fleet> {
  const dir = join(ctx.cacheDir, name);
  const saved = join(dir, 'fleet.json');
  if (!ctx.fresh && existsSync(saved)) return JSON.parse(readFileSync(saved, 'utf8')) as Fleet;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const fleet = await buildFleet(dir, spec);
  writeFileSync(saved, JSON.stringify(fleet));
  ctx.log(
    `fleet of ${spec.hosts} hosts built through the API in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  return fleet;
}
