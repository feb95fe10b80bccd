// Reading an advisory's text as the feeds give it (plain text, sometimes with Markdown habits:
// blank lines between paragraphs, "*" or "1." list items, "#" headings, [links](https://…),
// `code`) into its structure: blocks, and within them text, links and code. Pure functions, so
// the structure is tested without a browser (test/dashboard-first-hour-units.test.ts); the
// dashboard renders it in components/advisory-text.tsx.

export type Block =
  { kind: 'p'; text: string } | { kind: 'heading'; text: string } | { kind: 'list'; ordered: boolean; items: string[] };

const BULLET = /^\s*[*\-•+]\s+(.*)$/;
const NUMBERED = /^\s*\d{1,3}[.)]\s+(.*)$/;
const HEADING = /^\s*#{1,6}\s+(.*?)\s*#*\s*$/;

/** The text's blocks: paragraphs split at blank lines, list items and headings at their lines. */
export function parseAdvisory(text: string): Block[] {
  const blocks: Block[] = [];
  for (const chunk of text.replace(/\r\n?/g, '\n').split(/\n\s*\n/)) {
    let para: string[] = [];
    let list: { kind: 'list'; ordered: boolean; items: string[] } | null = null;
    const endPara = () => {
      if (para.length) blocks.push({ kind: 'p', text: para.join(' ') });
      para = [];
    };
    for (const raw of chunk.split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      const heading = HEADING.exec(raw);
      const bullet = BULLET.exec(raw);
      const numbered = bullet ? null : NUMBERED.exec(raw);
      if (heading) {
        endPara();
        list = null;
        blocks.push({ kind: 'heading', text: heading[1] });
      } else if (bullet || numbered) {
        endPara();
        const ordered = numbered !== null;
        if (!list || list.ordered !== ordered) {
          list = { kind: 'list', ordered, items: [] };
          blocks.push(list);
        }
        list.items.push((bullet ?? numbered)![1].trim());
      } else if (list && /^\s/.test(raw)) {
        // An indented line continues the list item above it.
        list.items[list.items.length - 1] += ` ${line}`;
      } else {
        list = null;
        para.push(line);
      }
    }
    endPara();
  }
  return blocks;
}

/**
 * A one-line first paragraph is the advisory's title (OSV's summary, an updateinfo title, the
 * Debian tracker's line): shown as a heading, the rest as the text.
 */
export function splitTitle(text: string): { title: string | null; body: string } {
  const trimmed = text.trim();
  const [first, ...rest] = trimmed.split(/\n\s*\n/);
  if (!first || first.includes('\n') || first.length > 200 || BULLET.test(first) || HEADING.test(first))
    return { title: null, body: trimmed };
  // A single long sentence is a description, not a title.
  if (rest.length === 0 && first.length > 120) return { title: null, body: trimmed };
  return { title: first.trim(), body: rest.join('\n\n') };
}

const INLINE = /\[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"']+)|`([^`\n]{1,200})`/g;

export type Segment =
  { kind: 'text'; text: string } | { kind: 'code'; text: string } | { kind: 'link'; text: string; href: string };

/** A line of text as text, links (http and https addresses only) and `code` spans. */
export function inlineSegments(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    let end = m.index + m[0].length;
    let url = m[2] ?? m[3];
    if (m[3]) {
      // A sentence's closing punctuation is not part of the URL.
      const trail = /[.,;:!?)\]]+$/.exec(url)?.[0] ?? '';
      url = url.slice(0, url.length - trail.length);
      end -= trail.length;
    }
    if (m.index > last) out.push({ kind: 'text', text: text.slice(last, m.index) });
    if (m[4] !== undefined) out.push({ kind: 'code', text: m[4] });
    else out.push({ kind: 'link', text: m[1] ?? url, href: url });
    last = end;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}
