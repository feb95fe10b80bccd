// FIRST's Exploit Prediction Scoring System (EPSS): for every published CVE, the probability of
// exploitation activity in the next 30 days and its percentile among all scored CVEs. One daily
// file (epss_scores-current.csv.gz, ~300,000 rows):
//
//   #model_version:v2025.03.14,score_date:2026-11-01T12:55:00Z
//   cve,epss,percentile
//   CVE-2024-1234,0.97231,0.99821
//
// The comment line is validated with zod and kept in the feed's meta (model_version, score_date:
// the day findings' `epss.date` says). Rows are checked by one regular expression and a range
// check each (a schema object per row would cost more than the rest of the import). Any
// malformed line refuses the whole file, naming the line: a damaged daily file must not
// replace yesterday's complete one. Rows go to the epss table; it covers no distribution.
import { z } from 'zod';
import { InputError, readInputs, textOf, type InputFile } from '../archive.ts';
import { describeIssues } from '../common/issues.ts';
import type { FeedImportContext, FeedSource } from '../registry.ts';

const HEADER = 'cve,epss,percentile';

const commentSchema = z.object({
  model_version: z.string().min(1),
  score_date: z.iso.datetime({ offset: true }).or(z.iso.date()),
});

// A CVE id, then two decimal numbers (scores are written 0.00043 or, rarely, 1e-05).
const ROW = /^(CVE-\d{4}-\d{4,19}),(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?),(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$/;

export interface EpssImportSummary {
  model_version: string;
  score_date: string;
  rows: number;
}

/** `#model_version:v…,score_date:…` → its fields, validated. */
function parseComment(file: InputFile, line: string): z.infer<typeof commentSchema> {
  if (!line.startsWith('#'))
    throw new InputError(
      `${file.origin}:1: not an EPSS file: expected the comment line "#model_version:…,score_date:…", found "${clip(line)}"`,
    );
  const fields: Record<string, string> = {};
  for (const part of line.slice(1).split(',')) {
    const colon = part.indexOf(':');
    if (colon > 0) fields[part.slice(0, colon).trim()] = part.slice(colon + 1).trim();
  }
  const parsed = commentSchema.safeParse(fields);
  if (!parsed.success)
    throw new InputError(`${file.origin}:1: not an EPSS comment line: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/** Imports one EPSS file. Throws, naming file and line, on anything not in its shape. */
function importFile(file: InputFile, ctx: FeedImportContext): EpssImportSummary {
  const text = textOf(file);
  let start = 0;
  let lineNo = 0;
  const nextLine = (): string | null => {
    if (start >= text.length) return null;
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    lineNo++;
    return line;
  };
  const comment = parseComment(file, nextLine() ?? '');
  const header = nextLine();
  if (header?.trim() !== HEADER)
    throw new InputError(
      `${file.origin}:2: expected the header "${HEADER}", found "${clip(header ?? '(end of file)')}"`,
    );
  let rows = 0;
  for (let line = nextLine(); line !== null; line = nextLine()) {
    if (line === '') continue;
    const m = ROW.exec(line);
    const score = m ? Number(m[2]) : NaN;
    const percentile = m ? Number(m[3]) : NaN;
    if (!m || !(score <= 1) || !(percentile <= 1))
      throw new InputError(
        `${file.origin}:${lineNo}: malformed EPSS row "${clip(line)}": expected CVE-id,score,percentile with both numbers between 0 and 1`,
      );
    ctx.writer.epss(m[1], score, percentile);
    rows++;
  }
  ctx.writer.meta('model_version', comment.model_version);
  ctx.writer.meta('score_date', comment.score_date);
  return { model_version: comment.model_version, score_date: comment.score_date, rows };
}

/** Imports the EPSS file(s) given: a `.csv.gz` as published, or the `.csv` inside it. */
export async function importEpss(inputs: readonly string[], ctx: FeedImportContext): Promise<EpssImportSummary> {
  let last: EpssImportSummary | null = null;
  for await (const file of readInputs(inputs, { accept: (name) => /\.csv$/i.test(name) })) {
    last = importFile(file, ctx);
  }
  if (!last) throw new InputError(`no EPSS file (a .csv or .csv.gz) in ${inputs.join(', ')}`);
  return last;
}

export const epssFeed: FeedSource = {
  name: 'epss',
  description: 'FIRST EPSS scores (daily gzip CSV): probability of exploitation in the next 30 days per CVE',
  defaultUrls: ['https://epss.empiricalsecurity.com/epss_scores-current.csv.gz'],
  async import(inputs, ctx) {
    await importEpss(inputs, ctx);
  },
};
