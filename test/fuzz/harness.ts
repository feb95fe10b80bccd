// The fuzz harness: feeds a target the inputs fast-check draws from mutate.ts, one at a time,
// to a worker thread, and judges each answer. An input passes when the parser returned, or
// threw one of the error classes the target declares as its clear refusal; it fails when the
// parser threw anything else (a TypeError from deep inside, a stack overflow), broke one of the
// target's invariants, did not answer within the time budget (a hang), or ran its heap out
// (unbounded memory). Before the random inputs, the target's seeds and its kept corpus
// (test/fuzz/corpus/<target>/, the inputs of past findings) are replayed.
//
// Settings (environment): FUZZ_RUNS inputs per target (scaled by the target's weight),
// FUZZ_SECONDS per target instead of a count, FUZZ_SEED to replay a run, FUZZ_TARGET to run
// some targets only (comma-separated), FUZZ_TIMEOUT_MS per input, FUZZ_HEAP_MB for the
// worker's heap, FUZZ_FINDINGS where failing inputs are written.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { inputs } from './mutate.ts';
import { target } from './targets/index.ts';
import type { WorkResult } from './worker.ts';

/** Inputs per target in `npm test`: the whole suite stays within a minute or two on 2 cores. */
export const CI_RUNS = 400;

export interface FuzzSettings {
  runs: number;
  /** Run each target for this long instead of `runs` inputs. */
  seconds: number | null;
  seed: number;
  timeoutMs: number;
  heapMb: number;
  /** Time given to shrinking a failing input before the smallest one found so far is kept. */
  shrinkSeconds: number;
  findings: string;
  only: string[] | null;
}

function numberFrom(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${key}=${raw}: expected a positive number`);
  return n;
}

export function settingsFrom(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  return {
    runs: numberFrom(env, 'FUZZ_RUNS', CI_RUNS),
    seconds: env.FUZZ_SECONDS ? numberFrom(env, 'FUZZ_SECONDS', 60) : null,
    seed: env.FUZZ_SEED ? Number(env.FUZZ_SEED) : Math.floor(Math.random() * 0x7fffffff),
    // Generous: a parse takes milliseconds; only an input that never ends runs into this.
    timeoutMs: numberFrom(env, 'FUZZ_TIMEOUT_MS', 20_000),
    heapMb: numberFrom(env, 'FUZZ_HEAP_MB', 512),
    shrinkSeconds: numberFrom(env, 'FUZZ_SHRINK_SECONDS', 60),
    findings: env.FUZZ_FINDINGS || path.join(tmpdir(), 'patchloop-fuzz-findings'),
    only: env.FUZZ_TARGET
      ? env.FUZZ_TARGET.split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : null,
  };
}

export type Verdict =
  | WorkResult
  | { outcome: 'hang'; message: string }
  | { outcome: 'memory'; message: string }
  | { outcome: 'worker-died'; message: string };

const passes = (v: Verdict): boolean => v.outcome === 'ok' || v.outcome === 'clear';

function describe(v: Verdict): string {
  switch (v.outcome) {
    case 'ok':
      return 'accepted';
    case 'clear':
      return `refused: ${v.name}: ${v.message.slice(0, 300)}`;
    case 'crash':
      return `crash: ${v.stack || `${v.name}: ${v.message}`}`.slice(0, 2000);
    default:
      return `${v.outcome}: ${v.message}`;
  }
}

/** A worker thread that runs targets; replaced when an input kills or hangs it. */
export class FuzzWorker {
  readonly #settings: FuzzSettings;
  readonly #scratch = mkdtempSync(path.join(tmpdir(), 'patchloop-fuzz-'));
  /** The worker, and when it has loaded the targets: null, or why it could not. */
  #worker: { w: Worker; ready: Promise<string | null> } | null = null;
  #pending: { id: number; worker: Worker; settle: (v: Verdict) => void } | null = null;
  #busy = false;
  #next = 1;

  constructor(settings: FuzzSettings) {
    this.#settings = settings;
  }

  #start(): { w: Worker; ready: Promise<string | null> } {
    const w = new Worker(new URL('./worker.ts', import.meta.url), {
      workerData: { scratch: this.#scratch },
      // The stack of a main thread (V8's default is 984 KiB; a worker's, 4 MiB): the parsers run
      // on main threads, where recursion overflows four times sooner.
      resourceLimits: { maxOldGenerationSizeMb: this.#settings.heapMb, stackSizeMb: 1 },
      stdout: true,
      stderr: true,
    });
    let started: (failure: string | null) => void = () => {};
    const ready = new Promise<string | null>((resolve) => (started = resolve));
    // Parsers' console output is noise here; a worker that stops answering is what counts.
    w.stdout.resume();
    w.stderr.resume();
    w.on('message', (r: WorkResult | 'ready') => {
      if (r === 'ready') started(null);
      else if (this.#pending?.id === r.id) this.#settle(w, r);
    });
    w.on('error', (err: Error & { code?: string }) => {
      started(`the worker failed to start: ${err.stack ?? err.message}`);
      if (this.#worker?.w === w) this.#worker = null;
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY')
        this.#settle(w, { outcome: 'memory', message: `the worker's heap (${this.#settings.heapMb} MiB) ran out` });
      else this.#settle(w, { outcome: 'worker-died', message: `uncaught in the worker: ${err.stack ?? err.message}` });
    });
    w.on('exit', (code) => {
      started(`the worker exited with code ${code} while starting`);
      if (this.#worker?.w === w) this.#worker = null;
      this.#settle(w, { outcome: 'worker-died', message: `the worker exited with code ${code}` });
    });
    return { w, ready };
  }

  /** Answers the pending input, if `w` is the worker it was given to (a stopped worker's exit is old news). */
  #settle(w: Worker, v: Verdict): void {
    const p = this.#pending;
    if (!p || p.worker !== w) return;
    this.#pending = null;
    p.settle(v);
  }

  /** Runs one input; never rejects. The time budget starts once the worker has loaded the targets. */
  async run(name: string, input: Uint8Array): Promise<Verdict> {
    if (this.#busy) throw new Error('FuzzWorker.run: one input at a time');
    this.#busy = true;
    try {
      this.#worker ??= this.#start();
      const { w, ready } = this.#worker;
      const failure = await ready;
      if (failure !== null) {
        if (this.#worker?.w === w) this.#worker = null;
        return { outcome: 'worker-died', message: failure };
      }
      return await this.#send(w, name, input);
    } finally {
      this.#busy = false;
    }
  }

  #send(w: Worker, name: string, input: Uint8Array): Promise<Verdict> {
    const id = this.#next++;
    return new Promise<Verdict>((resolve) => {
      const timer = setTimeout(() => {
        if (this.#worker?.w === w) this.#worker = null;
        this.#settle(w, { outcome: 'hang', message: `no answer within ${this.#settings.timeoutMs} ms` });
        void w.terminate();
      }, this.#settings.timeoutMs);
      this.#pending = {
        id,
        worker: w,
        settle: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
      };
      w.postMessage({ id, target: name, input });
    });
  }

  async close(): Promise<void> {
    const w = this.#worker?.w;
    this.#worker = null;
    if (w) await w.terminate();
    rmSync(this.#scratch, { recursive: true, force: true });
  }
}

export const CORPUS = path.join(path.dirname(new URL(import.meta.url).pathname), 'corpus');

/** The kept inputs of a target: test/fuzz/corpus/<target>/* (`*.gz` unpacked: large inputs kept small). */
export function corpusOf(name: string): { file: string; bytes: Uint8Array }[] {
  const dir = path.join(CORPUS, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((f) => {
      const raw = readFileSync(path.join(dir, f));
      return { file: path.join(dir, f), bytes: f.endsWith('.gz') ? gunzipSync(raw) : raw };
    });
}

export interface FuzzFailure {
  verdict: Verdict;
  /** Where the failing input was written. */
  file: string;
}

export interface FuzzReport {
  target: string;
  seed: number;
  /** Random inputs run (shrinking not counted). */
  runs: number;
  /** The FUZZ_RUNS that replays this run up to its failure (with FUZZ_SEED and FUZZ_TARGET). */
  replayRuns: number;
  accepted: number;
  refused: number;
  /** Seeds and corpus inputs replayed first. */
  replayed: number;
  replayFailures: { input: string; verdict: Verdict }[];
  failure: (FuzzFailure & { counterexamplePath: string | null }) | null;
}

function save(dir: string, name: string, input: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${createHash('sha256').update(input).digest('hex').slice(0, 16)}`);
  writeFileSync(file, input);
  return file;
}

/** Replays a target's seeds and corpus, then fuzzes it; reports instead of throwing. */
export async function fuzzTarget(name: string, worker: FuzzWorker, s: FuzzSettings): Promise<FuzzReport> {
  const t = target(name);
  const corpus = corpusOf(name);
  // Kept inputs are seeds too (as in a coverage-guided fuzzer's corpus), the small ones: the
  // megabyte inputs of past hangs would only slow every mutation down.
  const seeds = [
    ...(await t.seeds()),
    ...corpus.filter((c) => c.bytes.length <= 64 << 10).map((c) => ({ name: path.basename(c.file), bytes: c.bytes })),
  ];
  const weight = t.weight ?? 1;
  const report: FuzzReport = {
    target: name,
    seed: s.seed,
    runs: 0,
    replayRuns: s.runs,
    accepted: 0,
    refused: 0,
    replayed: 0,
    replayFailures: [],
    failure: null,
  };

  const replay = [
    ...(await t.seeds()).map((x) => ({ input: `seed ${x.name}`, bytes: x.bytes })),
    ...corpus.map((c) => ({ input: path.relative(process.cwd(), c.file), bytes: c.bytes })),
  ];
  for (const r of replay) {
    const v = await worker.run(name, r.bytes);
    report.replayed++;
    if (!passes(v)) report.replayFailures.push({ input: r.input, verdict: v });
  }

  let firstFailureAt: number | null = null;
  let last: FuzzFailure | null = null;
  const property = fc.asyncProperty(inputs(seeds, t.kind, t.dictionary), async (input) => {
    // Shrinking time is up.
    if (firstFailureAt !== null && Date.now() - firstFailureAt > s.shrinkSeconds * 1000) return true;
    const v = await worker.run(name, input);
    if (firstFailureAt === null) {
      report.runs++;
      if (v.outcome === 'ok') report.accepted++;
      else if (v.outcome === 'clear') report.refused++;
    }
    if (passes(v)) return true;
    firstFailureAt ??= Date.now();
    last = { verdict: v, file: save(s.findings, name, input) };
    throw new Error(describe(v));
  });
  const numRuns = s.seconds === null ? Math.max(1, Math.round(s.runs * weight)) : Number.MAX_SAFE_INTEGER;
  const details = await fc.check(property, {
    numRuns,
    seed: s.seed,
    plugins: s.seconds === null ? [] : [fc.interruptAfterTimeLimit(s.seconds * 1000)],
  });
  if (details.failed && last !== null) {
    const shrunk = (details.counterexample as [Uint8Array] | null)?.[0];
    const failure = last as FuzzFailure;
    report.replayRuns = Math.ceil(report.runs / weight);
    report.failure = {
      ...failure,
      file: shrunk ? save(s.findings, name, shrunk) : failure.file,
      counterexamplePath: details.counterexamplePath,
    };
  }
  return report;
}

/** Message for a failed report: what happened, the input's file, and how to replay the run. */
export function explain(r: FuzzReport): string {
  const lines: string[] = [];
  for (const f of r.replayFailures) lines.push(`${r.target}: kept input ${f.input}: ${describe(f.verdict)}`);
  if (r.failure) {
    lines.push(`${r.target}: ${describe(r.failure.verdict)}`);
    lines.push(`  input written to ${r.failure.file}`);
    lines.push(
      `  replay: FUZZ_TARGET=${r.target} FUZZ_SEED=${r.seed} FUZZ_RUNS=${r.replayRuns} node --test 'test/fuzz/*.test.ts'`,
    );
    lines.push(
      `  once fixed, keep the input as a regression case: cp ${r.failure.file} test/fuzz/corpus/${r.target}/<what-it-is>`,
    );
  }
  return lines.join('\n');
}

/** Declares one node:test test per target, all sharing one worker. */
export function fuzzSuite(names: readonly string[]): void {
  const s = settingsFrom();
  const worker = new FuzzWorker(s);
  after(() => worker.close());
  for (const name of names) {
    const skip = s.only !== null && !s.only.includes(name);
    test(
      `fuzz ${name}: every input is parsed or clearly refused`,
      { skip: skip && 'not in FUZZ_TARGET' },
      async (t) => {
        const r = await fuzzTarget(name, worker, s);
        t.diagnostic(
          `${name}: ${r.runs} inputs (${r.accepted} returned, ${r.refused} refused with a clear error), ${r.replayed} seeds and kept inputs replayed first; seed ${r.seed}`,
        );
        if (r.failure || r.replayFailures.length > 0) throw new Error(explain(r));
      },
    );
  }
}
