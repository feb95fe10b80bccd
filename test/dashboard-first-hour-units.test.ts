// How the dashboard reads an advisory's text (web/src/components/advisory-parse.ts): the shapes
// the feeds write (OSV summary and Markdown details, updateinfo title and description, Red Hat
// notes, the Debian tracker's one line) into a title, blocks and segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inlineSegments, parseAdvisory, splitTitle } from '../web/src/components/advisory-parse.ts';

test('an OSV record: the summary is the title; paragraphs, headings, lists and continued items kept', () => {
  const text = [
    'curl: cookie injection with none file',
    '',
    '## Impact',
    'A malicious server can inject cookies',
    'into the cookie store.',
    '',
    'Affected when:',
    '1. cookies are read from a file, and',
    '2) the file is named "none"',
    '',
    '- upgrade to 8.5.0',
    '- or disable the cookie engine with',
    '  `--no-cookies`',
  ].join('\r\n');
  const { title, body } = splitTitle(text);
  assert.equal(title, 'curl: cookie injection with none file');
  assert.deepEqual(parseAdvisory(body), [
    { kind: 'heading', text: 'Impact' },
    { kind: 'p', text: 'A malicious server can inject cookies into the cookie store.' },
    { kind: 'p', text: 'Affected when:' },
    { kind: 'list', ordered: true, items: ['cookies are read from a file, and', 'the file is named "none"'] },
    { kind: 'list', ordered: false, items: ['upgrade to 8.5.0', 'or disable the cookie engine with `--no-cookies`'] },
  ]);
});

test('what is not a title: a long single sentence, a first paragraph of several lines or a list', () => {
  const debian = 'In OpenSSL before 3.0.13, a crafted certificate can overflow a buffer during name checks.';
  assert.deepEqual(splitTitle(debian), { title: debian, body: '' }, 'the tracker line is a title');
  const long = `${'A long description sentence that goes on '.repeat(4)}and ends here.`;
  assert.deepEqual(splitTitle(long), { title: null, body: long });
  const wrapped = 'First line of a description\nthat wraps onto a second line.\n\nMore.';
  assert.equal(splitTitle(wrapped).title, null);
  assert.equal(splitTitle('* one\n* two').title, null);
  assert.equal(splitTitle('').title, null);
});

test('links: http(s) addresses and [text](url) only, without the sentence punctuation after them', () => {
  assert.deepEqual(
    inlineSegments(
      'See https://example.org/a_b?x=1. Or [the notice](https://example.org/n), `ls -l` (https://x.test/y).',
    ),
    [
      { kind: 'text', text: 'See ' },
      { kind: 'link', text: 'https://example.org/a_b?x=1', href: 'https://example.org/a_b?x=1' },
      { kind: 'text', text: '. Or ' },
      { kind: 'link', text: 'the notice', href: 'https://example.org/n' },
      { kind: 'text', text: ', ' },
      { kind: 'code', text: 'ls -l' },
      { kind: 'text', text: ' (' },
      { kind: 'link', text: 'https://x.test/y', href: 'https://x.test/y' },
      { kind: 'text', text: ').' },
    ],
  );
  // Other schemes stay text, markup stays text.
  for (const text of [
    '[run](javascript:alert(1))',
    '<a href="https:evil">x</a>',
    'data:text/html,<script>1</script>',
    'ftp://example.org/x',
  ])
    assert.ok(
      inlineSegments(text).every((s) => s.kind !== 'link' || /^https?:\/\//.test(s.href)),
      text,
    );
  assert.deepEqual(inlineSegments('[run](javascript:alert(1))'), [
    { kind: 'text', text: '[run](javascript:alert(1))' },
  ]);
  assert.deepEqual(inlineSegments(''), []);
});
