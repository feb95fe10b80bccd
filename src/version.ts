// patchloop's own version. A JSON import, so a bundled build carries it inline.
import pkg from '../package.json' with { type: 'json' };

export const PATCHLOOP_VERSION: string = pkg.version;
