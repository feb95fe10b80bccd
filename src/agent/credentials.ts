// The agent's credential: which server, which host, and the host token. Stored 0600 in the
// agent's state directory; never logged.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './files.ts';
import { ServerUrlSchema } from './http.ts';
import { PatchloopError } from '../core/errors.ts';

export const CredentialSchema = z
  .object({
    server: ServerUrlSchema,
    host_id: z.number().int(),
    host_token: z.string().min(8),
    enrolled_at: z.string(),
  })
  .strict();
export type Credential = z.infer<typeof CredentialSchema>;

export function credentialFile(stateDir: string): string {
  return join(stateDir, 'credentials.json');
}

export function saveCredential(stateDir: string, c: Credential): string {
  const file = credentialFile(stateDir);
  writeFileAtomic(file, `${JSON.stringify(c, null, 2)}\n`, 0o600);
  return file;
}

export function loadCredential(stateDir: string): Credential {
  const file = credentialFile(stateDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PatchloopError(
        'PL_E_NOT_ENROLLED',
        `not enrolled: no credential in ${file}; run \`patchloop agent enroll --server URL --token TOKEN\``,
      );
    }
    throw new PatchloopError('PL_E_NOT_ENROLLED', `cannot read ${file}: ${(err as Error).message}`);
  }
  if ((statSync(file).mode & 0o077) !== 0)
    throw new PatchloopError('PL_E_NOT_ENROLLED', `${file} is readable by others; it holds a secret (chmod 600 it)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PatchloopError('PL_E_NOT_ENROLLED', `${file} is not valid JSON (${(err as Error).message}); enrol again`);
  }
  const r = CredentialSchema.safeParse(parsed);
  if (!r.success)
    throw new PatchloopError(
      'PL_E_NOT_ENROLLED',
      `${file} is not a patchloop credential (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}); enrol again`,
    );
  return r.data;
}
