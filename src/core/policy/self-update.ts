// The patchloop package repository that every patchloop server publishes (src/server/repo):
// how its apt Release file names itself, so that the patch policy's default origins include it
// and unattended-upgrades updates the agent like any other package. On dnf hosts it is just
// another repository; dnf-automatic takes its updates with the rest.
import type { AptOrigin } from './schema.ts';

/** Origin and Label of the repository's Release file (unattended-upgrades' `o=` and `l=`). */
export const PATCHLOOP_APT_ORIGIN = { origin: 'patchloop', label: 'patchloop' } as const satisfies AptOrigin;
