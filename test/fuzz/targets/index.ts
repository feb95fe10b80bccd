// Every fuzz target by name (the worker looks targets up here).
import { amazonTargets } from './amazon.ts';
import type { FuzzTarget } from './common.ts';
import { feedTargets } from './feeds.ts';
import { inventoryTargets } from './inventory.ts';
import { patchLogTargets } from './patch-logs.ts';
import { protocolTargets } from './protocol.ts';
import { rpmTargets } from './rpm.ts';
import { selfTestTargets } from './selftest.ts';

export const TARGETS: ReadonlyMap<string, FuzzTarget> = new Map(
  [
    ...inventoryTargets,
    ...rpmTargets,
    ...feedTargets,
    ...amazonTargets,
    ...patchLogTargets,
    ...protocolTargets,
    ...selfTestTargets,
  ].map((t) => [t.name, t]),
);

export function target(name: string): FuzzTarget {
  const t = TARGETS.get(name);
  if (!t) throw new Error(`no fuzz target ${name} (known: ${[...TARGETS.keys()].join(', ')})`);
  return t;
}
