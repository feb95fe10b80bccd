// An advisory's text with its structure: the blocks and segments advisory-parse.ts reads from
// the feed's text, rendered as Preact elements. Nothing from a feed is ever handed to the
// browser as HTML, and links are made only of http(s) URLs.
import type { ComponentChildren } from 'preact';
import { inlineSegments, parseAdvisory } from './advisory-parse.ts';

/** Text with its links and `code` spans. */
function Inline(props: { text: string }): ComponentChildren {
  return inlineSegments(props.text).map((s, i) =>
    s.kind === 'text' ? (
      s.text
    ) : s.kind === 'code' ? (
      <code key={i}>{s.text}</code>
    ) : (
      <a key={i} href={s.href} rel="noreferrer noopener" target="_blank">
        {s.text}
      </a>
    ),
  );
}

function List(props: { ordered: boolean; items: string[] }) {
  const items = props.items.map((item, j) => (
    <li key={j}>
      <Inline text={item} />
    </li>
  ));
  return props.ordered ? <ol>{items}</ol> : <ul>{items}</ul>;
}

export function AdvisoryText(props: { text: string }) {
  return (
    <div class="advisory-text" data-advisory-text>
      {parseAdvisory(props.text).map((b, i) =>
        b.kind === 'p' ? (
          <p key={i}>
            <Inline text={b.text} />
          </p>
        ) : b.kind === 'heading' ? (
          <h3 key={i}>
            <Inline text={b.text} />
          </h3>
        ) : (
          <List key={i} ordered={b.ordered} items={b.items} />
        ),
      )}
    </div>
  );
}
