// Preloaded with `node --import` by tests that check which of the project's modules a command
// loads: appends every file URL loaded to the file named by PATCHLOOP_LOADED_LOG.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const log = process.env.PATCHLOOP_LOADED_LOG;
if (log) {
  registerHooks({
    load(url, context, next) {
      if (url.startsWith('file:')) appendFileSync(log, `${url}\n`);
      return next(url, context);
    },
  });
}
