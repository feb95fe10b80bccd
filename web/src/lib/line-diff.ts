// A line diff of two texts (longest common subsequence), for a policy's versions side by side.
// Policies are short (tens to a few hundred lines), so the quadratic table is small.

export interface DiffLine {
  kind: 'same' | 'added' | 'removed';
  text: string;
  /** Line number in the old text (removed, same) and in the new one (added, same). */
  old: number | null;
  new: number | null;
}

export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.at(-1) === '') a.pop();
  if (b.at(-1) === '') b.pop();
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i], old: i + 1, new: j + 1 });
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push({ kind: 'added', text: b[j], old: null, new: j + 1 });
      j++;
    } else {
      out.push({ kind: 'removed', text: a[i], old: i + 1, new: null });
      i++;
    }
  }
  return out;
}

/** The changed lines with `context` unchanged lines around each; longer unchanged runs become one gap. */
export function withContext(diff: readonly DiffLine[], context = 3): (DiffLine | { kind: 'gap'; lines: number })[] {
  const near = diff.map(() => false);
  diff.forEach((d, i) => {
    if (d.kind === 'same') return;
    for (let k = Math.max(0, i - context); k <= Math.min(diff.length - 1, i + context); k++) near[k] = true;
  });
  const out: (DiffLine | { kind: 'gap'; lines: number })[] = [];
  diff.forEach((d, i) => {
    if (near[i]) out.push(d);
    else if (out.at(-1)?.kind === 'gap') (out.at(-1) as { lines: number }).lines++;
    else out.push({ kind: 'gap', lines: 1 });
  });
  return out;
}
