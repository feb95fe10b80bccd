// What a benchmark section receives and returns.
export interface BenchContext {
  repo: string;
  /** ./bin/patchloop, the way users run it. */
  bin: string;
  /** Generated data is kept here between runs (regenerated with --fresh). */
  cacheDir: string;
  fresh: boolean;
  log: (line: string) => void;
}

export interface BenchRow {
  what: string;
  figure: string;
  target: string;
  ok: boolean;
}

export interface BenchSection {
  run(ctx: BenchContext): Promise<BenchRow[]>;
}
