// The list of commands. Each module exports register(program) and keeps its heavy imports lazy.
import type { Command } from 'commander';
import { register as compareVersions } from './compare-versions.ts';
import { register as inventory } from './inventory.ts';
import { register as db } from './db.ts';
import { register as scan } from './scan.ts';
import { register as server } from './server.ts';
import { register as agent } from './agent.ts';
import { register as patch } from './patch.ts';
import { register as elastic } from './elastic.ts';
import { register as exceptions } from './exceptions.ts';
import { register as report } from './report.ts';

export function registerCommands(program: Command): void {
  for (const register of [compareVersions, inventory, db, scan, server, agent, patch, elastic, exceptions, report])
    register(program);
}
