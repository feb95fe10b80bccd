// Configuration files: YAML read with the line of every value, values given on the command
// line or in the environment put on top, the result validated with zod, and every problem
// reported as `FILE:LINE: key: message`. One loader for the server, agent and export
// configuration; policy files use its YAML reading.
import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';
import { PatchloopError } from '../core/errors.ts';
import { issueLine, readYaml, type LineOf } from './yaml-lines.ts';

export class ConfigError extends PatchloopError {
  constructor(message: string) {
    super('PL_E_CONFIG', message);
  }
}

/** A YAML document that does not parse; `line`/`col` say where (1-based). */
export class YamlSyntaxError extends ConfigError {
  readonly line: number | null;
  readonly reason: string;
  constructor(file: string, line: number | null, col: number | null, reason: string) {
    super(`${file}${line !== null ? `:${line}:${col}` : ''}: ${reason}`);
    this.line = line;
    this.reason = reason;
  }
}

export type { LineOf } from './yaml-lines.ts';

/** A configuration as read: its data, the file it came from (null: none), where each value is in it. */
export interface ConfigSource {
  data: Record<string, unknown>;
  file: string | null;
  lineOf: LineOf;
}

const nowhere: LineOf = () => null;

/** No file: every value is a default or comes from the caller. */
export function emptySource(): ConfigSource {
  return { data: {}, file: null, lineOf: nowhere };
}

/** A source as it is; an object given in code as a source without a file. */
export function sourceOf(input: ConfigSource | object): ConfigSource {
  return 'lineOf' in input && 'data' in input
    ? (input as ConfigSource)
    : { data: input as Record<string, unknown>, file: null, lineOf: nowhere };
}

/** A YAML document's data and the line of each of its values. */
export function parseYaml(text: string, file: string): { data: unknown; lineOf: LineOf } {
  const read = readYaml(text);
  if (!read.ok) throw new YamlSyntaxError(file, read.line, read.col, read.reason);
  return { data: read.data, lineOf: read.lineOf };
}

/** A YAML configuration file, which must hold a mapping (an empty file is an empty one). */
export function readConfigFile(file: string): ConfigSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const { data, lineOf } = parseYaml(text, file);
  if (!isMapping(data)) throw new ConfigError(`${file}: expected a mapping at the top level`);
  return { data, file, lineOf };
}

/** The file to use: the one given, else the default when it exists, else none. */
export function configFileToUse(given: string | undefined, defaultFile: string): string | null {
  if (given) return given;
  return existsSync(defaultFile) ? defaultFile : null;
}

/** The file given (or the default when it exists) read, or an empty source. */
export function readConfig(given: string | undefined, defaultFile: string): ConfigSource {
  const file = configFileToUse(given, defaultFile);
  return file ? readConfigFile(file) : emptySource();
}

/** `source` with `overrides` (flags, environment) on top; their values are on no line of the file. */
export function withOverrides(source: ConfigSource, overrides: Record<string, unknown>): ConfigSource {
  const given = Object.entries(overrides).filter(([, v]) => v !== undefined);
  if (given.length === 0) return source;
  const replaced = new Set(given.map(([k]) => k));
  return {
    data: { ...source.data, ...Object.fromEntries(given) },
    file: source.file,
    lineOf: (path) => (replaced.has(String(path[0])) ? null : source.lineOf(path)),
  };
}

/** The mapping under `key` as a source of its own (absent: empty); its lines are the file's. */
export function sectionOf(source: ConfigSource, key: string): ConfigSource {
  const data = source.data[key] ?? {};
  if (!isMapping(data)) throw new ConfigError(`${source.file ?? 'the configuration'}: ${key}: expected a mapping`);
  return { data, file: source.file, lineOf: (path) => source.lineOf([key, ...path]) };
}

/**
 * Validates a source with `schema`: the data, or a ConfigError naming `what` (default: the
 * file) and every problem as `FILE:LINE: key: message` (`key: message` for a value the file
 * does not hold). `prefix`: the keys above the data (a section), shown in front of each key.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  source: ConfigSource,
  o: { what?: string; prefix?: string } = {},
): z.output<S> {
  const r = schema.safeParse(source.data);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const line = issueLine(source.lineOf, i);
    const key = [o.prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(top level)';
    return `  ${line !== null && source.file ? `${source.file}:${line}: ` : ''}${key}: ${i.message}`;
  });
  throw new ConfigError(`${o.what ?? source.file ?? 'the configuration'} is invalid:\n${problems.join('\n')}`);
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
