// The policy text editor: a textarea with line numbers, each line with a problem marked in the
// gutter, and the list of problems (each a button that puts the cursor on its line). The text
// grows with its lines so the gutter and the text scroll together in one box.
import { useRef } from 'preact/hooks';
import type { TextIssue } from '../lib/policy-yaml.ts';
import './policy-editor.css';

/** Issues by line (1-based); issues on no line under 0. */
function issuesByLine(issues: readonly TextIssue[]): Map<number, TextIssue[]> {
  const m = new Map<number, TextIssue[]>();
  for (const i of issues) {
    const k = i.line ?? 0;
    m.set(k, [...(m.get(k) ?? []), i]);
  }
  return m;
}

export function PolicyEditor(props: {
  text: string;
  onInput(text: string): void;
  issues: readonly TextIssue[];
  readOnly?: boolean;
}) {
  const area = useRef<HTMLTextAreaElement>(null);
  const lines = props.text.split('\n');
  const byLine = issuesByLine(props.issues);
  const goTo = (line: number) => {
    const el = area.current;
    if (!el) return;
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    el.focus();
    el.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  };
  return (
    <div class="policy-editor">
      <div class="editor-box">
        <ol class="editor-gutter" aria-hidden="true">
          {lines.map((_, i) => {
            const here = byLine.get(i + 1);
            return (
              <li key={i} class={here ? 'has-issue' : undefined} title={here?.map((x) => x.message).join('\n')}>
                {i + 1}
              </li>
            );
          })}
        </ol>
        <textarea
          ref={area}
          name="policy-text"
          aria-label="Policy (YAML)"
          spellcheck={false}
          wrap="off"
          rows={lines.length + 1}
          style={{
            minWidth: `${Math.max(...lines.map((l) => l.length)) + 3}ch`,
            height: `${(lines.length + 1) * 20 + 12}px`,
          }}
          readOnly={props.readOnly}
          value={props.text}
          onInput={(e) => props.onInput(e.currentTarget.value)}
        />
      </div>
      {props.issues.length > 0 ? (
        <ul class="editor-issues" role="alert" data-issues={props.issues.length}>
          {props.issues.map((i, k) => (
            <li key={k} data-issue-line={i.line ?? ''}>
              {i.line !== null ? (
                <button type="button" class="link" onClick={() => goTo(i.line!)}>
                  Line {i.line}
                </button>
              ) : (
                <span class="muted">Document</span>
              )}
              {i.path && <code>{i.path}</code>}
              <span>{i.message}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="editor-ok" data-valid>
          The policy is valid.
        </p>
      )}
    </div>
  );
}
