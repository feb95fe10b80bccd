import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { fileChunks, readTopLevelObjects, TrackerFormatError, type TopLevelMember } from './tracker-stream.ts';

const SAMPLE_PATH = new URL('../../../../shared/data/feeds/debian/tracker-json-sample/debian.json', import.meta.url);
const SAMPLE = readFileSync(SAMPLE_PATH);

async function* chunked(buf: Buffer, sizes: readonly number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < buf.length; i++) {
    const size = Math.max(1, sizes.length ? sizes[i % sizes.length] : buf.length);
    yield buf.subarray(at, at + size);
    at += size;
  }
}

async function members(buf: Buffer, sizes: readonly number[] = []): Promise<TopLevelMember[]> {
  const out: TopLevelMember[] = [];
  for await (const m of readTopLevelObjects(chunked(buf, sizes), 'test.json')) out.push(m);
  return out;
}

test('the real sample is read package by package, equal to JSON.parse of the whole file', async () => {
  const whole = JSON.parse(SAMPLE.toString('utf8')) as Record<string, unknown>;
  const got = await members(SAMPLE);
  assert.deepEqual(
    got.map((m) => m.name),
    ['prototypejs', 'txt2man', 'backupninja', 'chromium', 'sope', 'chromium-browser'],
  );
  assert.deepEqual(Object.fromEntries(got.map((m) => [m.name, m.value])), whole);
  // Line of each key in the pretty-printed file.
  const lines = SAMPLE.toString('utf8').split('\n');
  for (const m of got) assert.match(lines[m.line - 1], new RegExp(`^\\s*"${m.name}": \\{`));
});

test('chunk boundaries anywhere (inside keys, strings, escapes) do not change the result', async () => {
  const expected = await members(SAMPLE);
  for (const sizes of [[1], [2, 3], [7], [64, 1, 13], [4096]]) {
    assert.deepEqual(await members(SAMPLE, sizes), expected, `chunk sizes ${sizes}`);
  }
});

test('any object of objects round-trips, split into arbitrary chunks', async () => {
  // Full Unicode, so multi-byte characters get split across chunks too.
  const text = fc.string({ unit: 'binary' });
  const record = fc.dictionary(text, fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }));
  const data = fc.dictionary(text, record, { maxKeys: 6 });
  await fc.assert(
    fc.asyncProperty(
      data,
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
      fc.boolean(),
      async (obj, sizes, pretty) => {
        const buf = Buffer.from(JSON.stringify(obj, null, pretty ? 2 : undefined));
        const got = await members(buf, sizes);
        assert.deepEqual(
          got.map((m) => [m.name, m.value]),
          Object.entries(JSON.parse(buf.toString('utf8')) as Record<string, unknown>),
        );
      },
    ),
    { numRuns: 200 },
  );
});

test('a file cut anywhere is reported as truncated or invalid, never read as complete', async () => {
  const text = SAMPLE.toString('utf8').trimEnd();
  for (let cut = 0; cut < text.length; cut += 97) {
    await assert.rejects(members(Buffer.from(text.slice(0, cut))), TrackerFormatError, `cut at ${cut}`);
  }
  await assert.rejects(
    members(Buffer.from(text.slice(0, text.length - 1))),
    /truncated Debian tracker JSON: it ends inside or after the record of package "chromium-browser"/,
  );
});

test('structures other than an object of objects are errors that name file and line', async () => {
  const cases: [string, RegExp][] = [
    ['', /test\.json:1: truncated Debian tracker JSON: the file is empty/],
    ['[{"a": {}}]', /test\.json:1: not the Debian tracker JSON format: expected a JSON object, found "\["/],
    ['{"a": "b"}', /not an object \(starts with "\\""\)/],
    ['{\n"a": {},\n"b": [1]}', /test\.json:3: .*the value of "b" is not an object/],
    ['{"a": {} "b": {}}', /expected "," or "}" after the record of "a"/],
    ['{"a": {}} x', /unexpected "x" after the end/],
    ['{"a": {"x": tru}}', /test\.json:1: invalid JSON in the record of package "a"/],
    ['{a: {}}', /expected a package name, found "a"/],
  ];
  for (const [input, message] of cases) await assert.rejects(members(Buffer.from(input)), message, input);
  assert.deepEqual(await members(Buffer.from(' {} \n')), []);
});

test('fileChunks reads gzip files transparently and reports damaged gzip', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'patchloop-ts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gz = gzipSync(SAMPLE);
  writeFileSync(join(dir, 'debian.json.gz'), gz);
  const parts: Buffer[] = [];
  for await (const c of fileChunks(join(dir, 'debian.json.gz'))) parts.push(c);
  assert.deepEqual(Buffer.concat(parts), SAMPLE);

  writeFileSync(join(dir, 'cut.json.gz'), gz.subarray(0, gz.length / 2));
  await assert.rejects(async () => {
    for await (const _ of fileChunks(join(dir, 'cut.json.gz'))) void _;
  }, /damaged gzip data/);
  await assert.rejects(async () => {
    for await (const _ of fileChunks(join(dir, 'absent.json'))) void _;
  }, /ENOENT/);
});
