// The apk backend: `apk add --upgrade` of the upgradable packages the policy allows. Alpine
// has no update timer to collect from (no `collect`). See runner.ts.
import type { PatchBackend } from '../backend.ts';
import { runApk } from './runner.ts';

export const apkBackend: PatchBackend = { name: 'apk', format: 'apk', run: runApk };
