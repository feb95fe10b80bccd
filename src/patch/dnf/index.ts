// The rpm backend: dnf-automatic with patchloop's own configuration file. Collecting the runs
// of dnf-automatic.timer is not implemented yet (no `collect`). See runner.ts.
import type { PatchBackend } from '../backend.ts';
import { runDnf } from './runner.ts';

export const dnfBackend: PatchBackend = { name: 'dnf-automatic', format: 'rpm', run: runDnf };
