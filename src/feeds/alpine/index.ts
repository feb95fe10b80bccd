// Alpine: the secdb files (secdb.alpinelinux.org/vX.Y/{main,community}.json, or the YAML form
// the aports tooling writes), one per branch and repository.
//
// - `secfixes: {fixedVersion: [CVE…]}` → one `fixed` entry per CVE; the version `0` means the
//   branch was never affected (a `not_affected` entry). Ids are read as common/ids.ts says:
//   `CVE-2017-17434-1` and `CVE-2019-19451.patch` name their CVE, and another id written in the
//   same item (`CVE-2019-17340 XSA-284`) is kept as its alias.
// - Key: the origin (source) package; release: the branch from `distroversion` (`v3.12` →
//   `3.12`, `edge`); versions in apk order.
// - a fixed version with no ids (`"2.8.0-r0": {}` in the real v3.12 main.json, or an empty
//   list) names no vulnerability, so it yields no entry; such fixes are counted in the import
//   summary and the feed's metadata rather than warned about on every update. Anything else
//   where a list of ids belongs is malformed and warned about.
// - secdb holds fixes only: an open vulnerability is simply absent, so an Alpine scan can only
//   report what a newer package fixed (no `affected` or `will_not_fix` entries exist), and
//   Alpine gives no severity (`unknown`).
import { Lexer, parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { AdvisoryEntry } from '../../core/types.ts';
import { getScheme } from '../../core/version/index.ts';
import { InputError, jsonOf, readInputs, textOf, type InputFile } from '../archive.ts';
import type { FeedImportContext, FeedSource } from '../registry.ts';
import { EntryBuffer } from '../common/entries.ts';
import { describeIssues } from '../common/issues.ts';
import { idsOfItem } from '../common/ids.ts';

const secdbSchema = z.object({
  distroversion: z.string().regex(/^(v\d+\.\d+|edge)$/, 'expected a branch such as "v3.18" or "edge"'),
  reponame: z.string().optional(),
  archs: z.array(z.string()).optional(),
  // An empty repository is written as `{}` rather than `[]`.
  packages: z.union([z.array(z.unknown()), z.object({}).strict()]),
});

const packageSchema = z.object({
  pkg: z.object({
    name: z.string().min(1),
    secfixes: z.record(z.string(), z.unknown()).nullish(),
  }),
});

export interface AlpineImportSummary {
  files: number;
  documents: number;
  packages: number;
  entries: number;
  /** Fixed versions listed without any vulnerability id (`{}`, `[]` or nothing). */
  fixesWithoutIds: number;
}

/** `{}`, `[]` or a missing value where a list of ids belongs. */
function noIds(ids: unknown): boolean {
  if (ids === null || ids === undefined) return true;
  if (Array.isArray(ids)) return ids.length === 0;
  return typeof ids === 'object' && Object.keys(ids).length === 0;
}

function parseDocument(file: InputFile): unknown {
  if (/\.ya?ml$/i.test(file.name)) {
    const text = textOf(file);
    const tooDeep = flowNestingBeyond(text, MAX_FLOW_DEPTH);
    if (tooDeep !== null)
      throw new InputError(
        `${file.origin}:${lineAt(text, tooDeep)}: not a secdb document: YAML collections nested more than ${MAX_FLOW_DEPTH} deep`,
      );
    try {
      // Without prettyErrors: the library's context for each error costs time in proportion to
      // the input, and a damaged file can hold tens of thousands of errors (minutes for 1 MB).
      return parseYaml(text, { prettyErrors: false });
    } catch (err) {
      const pos = (err as { pos?: [number, number] }).pos?.[0];
      const line = pos === undefined ? '' : `:${lineAt(text, pos)}`;
      throw new InputError(`${file.origin}${line}: not valid YAML: ${(err as Error).message}`);
    }
  }
  return jsonOf(file);
}

/** secdb nests three levels; the YAML library's memory grows steeply with flow nesting (500 MB for 1 MB of `{`). */
const MAX_FLOW_DEPTH = 64;

/** Offset of the first flow collection (`{`, `[`) nested deeper than `max`, or null: a linear scan of the tokens. */
function flowNestingBeyond(text: string, max: number): number | null {
  let depth = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '{' || token === '[') {
      if (++depth > max) return offset;
    } else if (token === '}' || token === ']') {
      depth = Math.max(0, depth - 1);
    }
    offset += token.length;
  }
  return null;
}

function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** A value in a message: its JSON when it is small, and never a walk through a deep structure. */
function glimpse(value: unknown): string {
  const s = small(value)
    ? (JSON.stringify(value) ?? String(value))
    : Array.isArray(value)
      ? `a list of ${value.length} items`
      : 'a large or deeply nested object';
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** At most 4 levels and 100 values, checked level by level (JSON.stringify recurses). */
function small(value: unknown): boolean {
  let level: unknown[] = [value];
  let values = 0;
  for (let depth = 0; level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const v of level) {
      if (typeof v !== 'object' || v === null) continue;
      const children = Object.values(v);
      values += children.length;
      if (depth >= 4 || values > 100) return false;
      for (const c of children) next.push(c);
    }
    level = next;
  }
  return true;
}

export async function importAlpine(inputs: readonly string[], ctx: FeedImportContext): Promise<AlpineImportSummary> {
  const apk = getScheme('apk');
  const buffer = new EntryBuffer();
  const summary: AlpineImportSummary = { files: 0, documents: 0, packages: 0, entries: 0, fixesWithoutIds: 0 };
  const accept = (name: string): boolean => /\.(json|ya?ml)$/i.test(name);
  for await (const file of readInputs(inputs, { accept })) {
    summary.files++;
    let doc: unknown;
    try {
      doc = parseDocument(file);
    } catch (err) {
      ctx.warn(`skipped ${(err as Error).message}`);
      continue;
    }
    const parsed = secdbSchema.safeParse(doc);
    if (!parsed.success) {
      ctx.warn(`skipped ${file.origin}: not an Alpine secdb document: ${describeIssues(parsed.error)}`);
      continue;
    }
    summary.documents++;
    const branch = parsed.data.distroversion.replace(/^v/, '');
    const packages = Array.isArray(parsed.data.packages) ? parsed.data.packages : [];
    for (const [i, raw] of packages.entries()) {
      const p = packageSchema.safeParse(raw);
      if (!p.success) {
        ctx.warn(`skipped ${file.origin}: packages[${i}]: ${describeIssues(p.error)}`);
        continue;
      }
      summary.packages++;
      const name = p.data.pkg.name;
      for (const [version, ids] of Object.entries(p.data.pkg.secfixes ?? {})) {
        const where = `${file.origin}: ${name} ${version}`;
        if (noIds(ids)) {
          summary.fixesWithoutIds++;
          continue;
        }
        if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) {
          ctx.warn(`skipped ${where}: expected a list of vulnerability ids, found ${glimpse(ids)}`);
          continue;
        }
        const never = version === '0';
        const why = never ? null : apk.validate(version);
        if (why) {
          ctx.warn(`skipped ${where}: invalid apk version: ${why}`);
          continue;
        }
        for (const item of ids as string[]) {
          // Items are ids, sometimes with a note ("CVE-2017-1000376 (not in musl)") or another
          // id ("CVE-2019-17340 XSA-284"); a suffixed id names its CVE (common/ids.ts).
          const named = idsOfItem(item);
          if (!named) {
            ctx.warn(`skipped ${where}: not a vulnerability id: ${JSON.stringify(item)}`);
            continue;
          }
          const id = named.id;
          const entry: AdvisoryEntry = {
            feed: 'alpine',
            distro: 'alpine',
            release: branch,
            package: name,
            key_kind: 'source',
            scheme: 'apk',
            vuln_id: id,
            status: never ? 'not_affected' : 'fixed',
            raw_status: never ? 'not affected (secfixes 0)' : 'fixed',
            introduced: null,
            fixed_version: never ? null : version,
            last_affected: null,
            severity: 'unknown',
            raw_severity: '',
            advisory_ids: [],
            module_stream: null,
            arches: [],
          };
          buffer.add(entry);
          ctx.writer.vulnerability({
            id,
            aliases: named.aliases,
            description: '',
            published: null,
            modified: null,
            references: id.startsWith('CVE-') ? [`https://security.alpinelinux.org/vuln/${id}`] : [],
          });
        }
      }
    }
  }
  if (summary.documents === 0) {
    throw new InputError(
      `${inputs.join(', ')}: not Alpine secdb data (${summary.files} file(s), none a secdb document)`,
    );
  }
  summary.entries = buffer.flush(ctx.writer);
  ctx.writer.meta('note', 'Alpine secdb lists fixed versions only: vulnerabilities without a fix are absent');
  ctx.writer.meta('fixes_without_ids', String(summary.fixesWithoutIds));
  return summary;
}

export const alpineFeed: FeedSource = {
  name: 'alpine',
  description: 'Alpine secdb (JSON or YAML, per branch and repository): fixed versions by origin package',
  defaultUrls: [],
  async import(inputs, ctx) {
    await importAlpine(inputs, ctx);
  },
};
