// `npm run bench [-- SECTION...]`: runs the benchmark sections (all by default) and prints
// each figure with its target, the data it ran on and the command that reproduces it.
// Figures are measured here, on this machine; nothing in the test suite times anything.
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchSection } from './lib/context.ts';

const SECTIONS: Record<string, () => Promise<BenchSection>> = {
  debian: async () => (await import('./debian.ts')).section,
  almalinux: async () => (await import('./almalinux.ts')).section,
  export: async () => (await import('./export.ts')).section,
  ingest: async () => (await import('./ingest.ts')).section,
  executable: async () => (await import('./executable.ts')).section,
  exceptions: async () => (await import('./exceptions.ts')).section,
  notify: async () => (await import('./notify.ts')).section,
  'kev-epss': async () => (await import('./kev-epss.ts')).section,
  priorities: async () => (await import('./priorities.ts')).section,
};

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = requested.filter((r) => !(r in SECTIONS));
if (unknown.length) {
  process.stderr.write(`bench: unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}\n`);
  process.exit(2);
}

const repo = fileURLToPath(new URL('../', import.meta.url));
const ctx: BenchContext = {
  repo,
  bin: `${repo}bin/patchloop`,
  cacheDir: `${repo}.cache/bench`,
  fresh: process.argv.includes('--fresh'),
  log: (line) => process.stdout.write(`${line}\n`),
};
mkdirSync(ctx.cacheDir, { recursive: true });
ctx.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`,
);
let missed = 0;
for (const name of requested.length ? requested : Object.keys(SECTIONS)) {
  ctx.log(`\n== ${name}`);
  const section = await SECTIONS[name]();
  const rows = await section.run(ctx);
  for (const r of rows) {
    ctx.log(`${r.what.padEnd(60)} ${r.figure.padStart(14)}   target ${r.target.padEnd(10)} ${r.ok ? 'ok' : 'MISSED'}`);
    if (!r.ok) missed++;
  }
}
ctx.log(missed ? `\n${missed} figure(s) missed their target` : '\nall figures within target');
