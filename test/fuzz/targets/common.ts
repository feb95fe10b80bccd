// What a fuzz target is, and helpers to gather its seeds from the shared real data and the
// repository's fixtures.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FeedWriter } from '../../../src/vulndb/writer.ts';
import { REPO_ROOT } from '../../support/paths.ts';
import type { InputKind, Seed } from '../mutate.ts';

/** An error class whose instances are a parser's clear refusal of its input. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ErrorClass = new (...args: any[]) => Error;

export interface FuzzTarget {
  name: string;
  /** What the parser reads, which decides the mutations used. */
  kind: InputKind;
  /** Real inputs to mutate (read in the main thread). */
  seeds(): Promise<Seed[]> | Seed[];
  /** Words of the format inserted by mutations (field names, keywords, magic strings). */
  dictionary?: string[];
  /** Share of the run count this target gets (1 = FUZZ_RUNS): lower for slow targets. */
  weight?: number;
  /**
   * Feeds one input to the parser as the program does (a file under `scratch` for readers that
   * take a path). Returns what the parser returned; throws what it threw. Runs in a worker.
   */
  run(input: Uint8Array, scratch: string): unknown;
  /** The errors that are a clear refusal: the project's own classes, thrown with a message. */
  clear: ErrorClass[];
}

/** An output a parser must never produce, whatever the input (checked by the targets). */
export class FuzzInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzInvariantError';
  }
}

/** `message` is built only when the check fails (outputs can be large). */
export function invariant(ok: boolean, message: () => string): void {
  if (!ok) throw new FuzzInvariantError(message());
}

export function text(input: Uint8Array): string {
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
}

/** A seed from a file; text files above `maxBytes` keep their first lines up to that size. */
export function seedFile(file: string, maxBytes = Infinity): Seed {
  let bytes: Uint8Array = readFileSync(file);
  if (bytes.length > maxBytes) {
    const cut = bytes.lastIndexOf(0x0a, maxBytes);
    bytes = bytes.subarray(0, cut > 0 ? cut + 1 : maxBytes);
  }
  return { name: path.relative(path.join(REPO_ROOT, '..'), file), bytes };
}

/** Every regular file under `dir` whose path matches `accept`, sorted. */
export function filesUnder(dir: string, accept: (file: string) => boolean = () => true): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && accept(p)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Writes `input` at `rel` under `scratch` (directories created) and returns its path. */
export async function writeInput(scratch: string, rel: string, input: Uint8Array): Promise<string> {
  const file = path.join(scratch, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, input);
  return file;
}

/** Collects what a feed import writes, and checks it is what the vulnerability DB can store. */
export class CollectingWriter {
  entries = 0;
  vulnerabilities = 0;
  support = 0;
  warnings = 0;

  readonly writer: FeedWriter = {
    entry: (e) => {
      invariant(
        typeof e.vuln_id === 'string' && e.vuln_id !== '',
        () => `an entry without a vulnerability id: ${JSON.stringify(e).slice(0, 200)}`,
      );
      invariant(
        typeof e.package === 'string' && e.package !== '',
        () => `an entry without a package: ${JSON.stringify(e).slice(0, 200)}`,
      );
      invariant(
        typeof e.release === 'string' && e.release !== '',
        () => `an entry without a release: ${String(e.release).slice(0, 100)} (${typeof e.release})`,
      );
      this.entries++;
    },
    vulnerability: (v) => {
      invariant(typeof v.id === 'string' && v.id !== '', () => 'a vulnerability without an id');
      this.vulnerabilities++;
    },
    support: () => {
      this.support++;
    },
    kev: () => {},
    epss: () => {},
    cvss: (id, c) => {
      invariant(Number.isFinite(c.score) && c.score >= 0 && c.score <= 10, () => `CVSS score ${c.score} of ${id}`);
    },
    meta: () => {},
  };

  readonly warn = (message: string): void => {
    invariant(typeof message === 'string', () => 'a warning that is not a string');
    this.warnings++;
  };
}
