// Input generators for the fuzz suite: real files (seeds) changed by mutations, as a
// mutation-based fuzzer does, plus random bytes. Parsers reject random bytes on their first line
// or magic number; a real file with a truncation, a flipped bit, a duplicated record or a huge
// number goes deep into them. Every mutation is plain data drawn by fast-check, so a failure
// shrinks to fewer and smaller mutations of the same seed.
import fc from 'fast-check';

export type InputKind = 'text' | 'binary' | 'json';

/** One real input a target's mutations start from. */
export interface Seed {
  name: string;
  bytes: Uint8Array;
}

/** Mutations never grow an input beyond this (a parser's time on bigger inputs is not the question). */
export const MAX_INPUT_BYTES = 1 << 20;

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** Bytes worth inserting into any text format: separators, quotes, escapes, odd encodings. */
const COMMON_TOKENS: Uint8Array[] = [
  ...[
    '\n',
    '\r\n',
    '\n\n',
    '\r',
    '\t',
    ' ',
    ':',
    '=',
    ',',
    ';',
    '"',
    "'",
    '\\',
    '/',
    '#',
    '-',
    '(',
    ')',
    '[',
    ']',
    '{',
    '}',
    '<',
    '>',
    '&',
    '%',
    '$',
    '*',
    '.',
    '..',
    '@',
    '|',
  ].map(utf8),
  ...[
    '0',
    '-1',
    '1e309',
    '99999999999999999999',
    '4294967296',
    '-2147483649',
    '9007199254740993',
    'NaN',
    'null',
    'true',
    '__proto__',
    'constructor',
    'toString',
  ].map(utf8),
  ...[
    '%E0%A4%A',
    '%00',
    '%ZZ',
    '\u0085',
    '\u2028',
    '\ufeff',
    '\ud7ff\ue000',
    'é',
    '𝄞',
    '<![CDATA[',
    ']]>',
    '<!--',
    '-->',
    '&amp;',
    '&#0;',
    '&#xFFFFFF;',
    '<!DOCTYPE x [<!ENTITY e "ee">]>',
    '&e;',
    '${x}',
    '`',
  ].map(utf8),
  Uint8Array.of(0),
  Uint8Array.of(0xff, 0xfe),
  Uint8Array.of(0xc0, 0x80), // overlong NUL
  Uint8Array.of(0xed, 0xa0, 0x80), // a lone surrogate in UTF-8
  Uint8Array.of(0xe2, 0x82), // a cut multi-byte sequence
];

const SEPARATOR = /[:/@?=&.-]/;

/** Words for parts of structured strings. */
const COMMON_WORDS = [
  '',
  '0',
  '-1',
  '99999999999999999999',
  '__proto__',
  'constructor',
  'toString',
  '%',
  '%E0%A4%A',
  '%ZZ',
  'x'.repeat(1000),
  '\u0000',
  'é',
];

const INTERESTING_INTS = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x1ff, 0x200, 0xfff, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000, 0x0fffffff,
  0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];
const INTERESTING_NUMBERS = [
  '0',
  '00',
  '-1',
  '-0',
  '1e309',
  '4294967295',
  '4294967296',
  '9007199254740993',
  '99999999999999999999',
  '0x10',
  '1.5',
  '9'.repeat(400),
];
const REPEATS = [2, 3, 10, 100, 1000, 20000];
const LONG = [256, 4096, 65536, 1 << 20];

/** A position, biased towards the start, where headers, magic numbers and first records are. */
const position = fc.oneof(fc.nat({ max: 63 }), fc.nat({ max: 4095 }), fc.nat());

type ByteOp =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'token'; at: number; token: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'repeat'; at: number; length: number; times: number }
  | { op: 'move'; at: number; length: number; to: number }
  | { op: 'splice'; seed: number; from: number; length: number; at: number }
  | { op: 'int'; at: number; width: 1 | 2 | 4; value: number; littleEndian: boolean }
  | { op: 'long'; at: number; length: number; byte: number };

type LineOp =
  | { op: 'line-duplicate'; line: number; times: number }
  | { op: 'line-delete'; line: number }
  | { op: 'line-swap'; line: number; other: number }
  | { op: 'line-from-seed'; seed: number; line: number; at: number }
  | { op: 'number'; at: number; value: number }
  | { op: 'line-insert'; line: number; token: number }
  | { op: 'rename-field'; line: number; token: number }
  | { op: 'word'; at: number; token: number };

const span = fc.oneof(fc.nat({ max: 16 }), fc.nat({ max: 512 }), fc.nat({ max: 65536 }));

function byteOp(tokens: number): fc.Arbitrary<ByteOp> {
  return fc.oneof(
    fc.record({ op: fc.constant('truncate' as const), at: position }),
    fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
    fc.record({ op: fc.constant('set' as const), at: position, byte: fc.nat({ max: 255 }) }),
    fc.record({
      op: fc.constant('insert' as const),
      at: position,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
    fc.record({ op: fc.constant('token' as const), at: position, token: fc.nat({ max: tokens - 1 }) }),
    fc.record({ op: fc.constant('delete' as const), at: position, length: span }),
    fc.record({ op: fc.constant('repeat' as const), at: position, length: span, times: fc.constantFrom(...REPEATS) }),
    fc.record({ op: fc.constant('move' as const), at: position, length: span, to: position }),
    fc.record({ op: fc.constant('splice' as const), seed: fc.nat(), from: position, length: span, at: position }),
    fc.record({
      op: fc.constant('long' as const),
      at: position,
      length: fc.constantFrom(...LONG),
      byte: fc.constantFrom(0x41, 0x20, 0x30, 0x2d, 0x7b, 0x5b, 0x28, 0x3c),
    }),
  );
}

const intOp: fc.Arbitrary<ByteOp> = fc.record({
  op: fc.constant('int' as const),
  at: position,
  width: fc.constantFrom(1 as const, 2 as const, 4 as const),
  value: fc.oneof(fc.constantFrom(...INTERESTING_INTS), fc.nat({ max: 0xffffffff })),
  littleEndian: fc.boolean(),
});

const lineOp = (tokens: number): fc.Arbitrary<LineOp> =>
  fc.oneof(
    fc.record({ op: fc.constant('line-duplicate' as const), line: fc.nat(), times: fc.constantFrom(1, 2, ...REPEATS) }),
    fc.record({ op: fc.constant('line-insert' as const), line: fc.nat(), token: fc.nat({ max: tokens - 1 }) }),
    fc.record({ op: fc.constant('rename-field' as const), line: fc.nat(), token: fc.nat({ max: tokens - 1 }) }),
    fc.record({ op: fc.constant('word' as const), at: position, token: fc.nat({ max: tokens - 1 }) }),
    fc.record({ op: fc.constant('line-delete' as const), line: fc.nat() }),
    fc.record({ op: fc.constant('line-swap' as const), line: fc.nat(), other: fc.nat() }),
    fc.record({ op: fc.constant('line-from-seed' as const), seed: fc.nat(), line: fc.nat(), at: fc.nat() }),
    fc.record({
      op: fc.constant('number' as const),
      at: position,
      value: fc.nat({ max: INTERESTING_NUMBERS.length - 1 }),
    }),
  );

/** Joins pieces (an array, not spread arguments: there can be a million of them). */
const concat = (parts: readonly Uint8Array[]): Uint8Array => Buffer.concat(parts);

function applyByteOp(data: Uint8Array, m: ByteOp, seeds: readonly Seed[], tokens: readonly Uint8Array[]): Uint8Array {
  const n = data.length;
  const at = m.at % (n + 1);
  switch (m.op) {
    case 'truncate':
      return data.subarray(0, at);
    case 'flip':
    case 'set': {
      if (n === 0) return data;
      const out = Uint8Array.from(data);
      const i = at % n;
      out[i] = m.op === 'flip' ? out[i] ^ (1 << m.bit) : m.byte;
      return out;
    }
    case 'insert':
      return concat([data.subarray(0, at), m.bytes, data.subarray(at)]);
    case 'token':
      return concat([data.subarray(0, at), tokens[m.token % tokens.length], data.subarray(at)]);
    case 'delete':
      return concat([data.subarray(0, at), data.subarray(Math.min(n, at + m.length))]);
    case 'repeat': {
      const piece = data.subarray(at, Math.min(n, at + Math.max(1, m.length)));
      const times = Math.min(m.times, Math.floor(MAX_INPUT_BYTES / Math.max(1, piece.length)));
      return concat([
        data.subarray(0, at),
        ...Array.from({ length: times }, () => piece),
        data.subarray(at + piece.length),
      ]);
    }
    case 'move': {
      const piece = data.subarray(at, Math.min(n, at + m.length));
      const rest = concat([data.subarray(0, at), data.subarray(at + piece.length)]);
      const to = m.to % (rest.length + 1);
      return concat([rest.subarray(0, to), piece, rest.subarray(to)]);
    }
    case 'splice': {
      const other = seeds[m.seed % seeds.length].bytes;
      const from = m.from % (other.length + 1);
      return concat([data.subarray(0, at), other.subarray(from, from + m.length), data.subarray(at)]);
    }
    case 'int': {
      if (n < m.width) return data;
      const out = Uint8Array.from(data);
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      const i = at % (n - m.width + 1);
      if (m.width === 1) view.setUint8(i, m.value & 0xff);
      else if (m.width === 2) view.setUint16(i, m.value & 0xffff, m.littleEndian);
      else view.setUint32(i, m.value >>> 0, m.littleEndian);
      return out;
    }
    case 'long':
      return concat([data.subarray(0, at), new Uint8Array(m.length).fill(m.byte), data.subarray(at)]);
  }
}

function splitLines(data: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a) {
      lines.push(data.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < data.length) lines.push(data.subarray(start));
  return lines;
}

function applyLineOp(data: Uint8Array, m: LineOp, seeds: readonly Seed[], tokens: readonly Uint8Array[]): Uint8Array {
  if (m.op === 'number') {
    // The next run of digits after the position becomes an extreme number.
    let i = m.at % (data.length + 1);
    while (i < data.length && !(data[i] >= 0x30 && data[i] <= 0x39)) i++;
    let j = i;
    while (j < data.length && data[j] >= 0x30 && data[j] <= 0x39) j++;
    return concat([data.subarray(0, i), utf8(INTERESTING_NUMBERS[m.value]), data.subarray(j)]);
  }
  if (m.op === 'word') {
    // The word (between spaces, tabs or line ends) around the position becomes a word of the format.
    const isGap = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
    let i = m.at % (data.length + 1);
    let j = i;
    while (i > 0 && !isGap(data[i - 1])) i--;
    while (j < data.length && !isGap(data[j])) j++;
    return concat([data.subarray(0, i), tokens[m.token % tokens.length], data.subarray(j)]);
  }
  const lines = splitLines(data);
  if (lines.length === 0) return data;
  const i = m.line % lines.length;
  switch (m.op) {
    case 'line-duplicate': {
      const times = Math.min(m.times, Math.floor(MAX_INPUT_BYTES / Math.max(1, lines[i].length)));
      lines.splice(i, 0, ...Array.from({ length: times }, () => lines[i]));
      break;
    }
    case 'line-delete':
      lines.splice(i, 1);
      break;
    case 'line-swap': {
      const j = m.other % lines.length;
      [lines[i], lines[j]] = [lines[j], lines[i]];
      break;
    }
    case 'line-insert': {
      // A word of the format as a line of its own.
      const token = tokens[m.token % tokens.length];
      lines.splice(i, 0, token.at(-1) === 0x0a ? token : concat([token, Uint8Array.of(0x0a)]));
      break;
    }
    case 'rename-field': {
      // `Key: value`, `KEY=value`, `K:value`: another name before the first ':' or '='.
      const line = lines[i];
      const sep = line.findIndex((b) => b === 0x3a || b === 0x3d);
      if (sep > 0) lines[i] = concat([tokens[m.token % tokens.length], line.subarray(sep)]);
      break;
    }
    case 'line-from-seed': {
      const other = splitLines(seeds[m.seed % seeds.length].bytes);
      if (other.length > 0) lines.splice(m.at % (lines.length + 1), 0, other[i % other.length]);
      break;
    }
  }
  return concat(lines);
}

// --- JSON: mutations of the parsed document, then serialised (and perhaps byte-mutated) ---

type JsonOp =
  | { op: 'replace'; node: number; value: number }
  | { op: 'deep'; node: number; depth: number; object: boolean }
  | { op: 'delete'; node: number }
  | { op: 'duplicate'; node: number; times: number }
  | { op: 'rename'; node: number; key: number }
  | { op: 'wrap'; node: number }
  | { op: 'graft'; node: number; from: number }
  | { op: 'recurse'; node: number; inner: number; depth: number }
  | { op: 'string-part'; node: number; at: number; token: number };

const DEEP_MARK = '\u0001deep:';
const INTERESTING_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 31,
  2 ** 32,
  2 ** 53 + 2,
  Number.MIN_VALUE,
  '',
  ' ',
  '0',
  '-',
  'x'.repeat(100_000),
  '\u0000',
  '\ud800',
  '%E0%A4%A',
  '1:2.3-4.el9',
  'CVE-2024-0001',
  '9999-12-31T23:59:59Z',
  'pkg:rpm/redhat/%E0@1.0-1.el9?arch=x86_64',
  'pkg:rpm/redhat/x@1-1?epoch=%ZZ',
  '../../etc/passwd',
  [],
  {},
  [null],
  { '': null },
];
const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  'x'.repeat(1000),
  'id',
  'name',
  'version',
];
const DEPTHS = [64, 1000, 20_000, 100_000];

const jsonOp: fc.Arbitrary<JsonOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('replace' as const),
      node: fc.nat(),
      value: fc.nat({ max: INTERESTING_VALUES.length - 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('deep' as const),
      node: fc.nat(),
      depth: fc.constantFrom(...DEPTHS),
      object: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), node: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('duplicate' as const),
      node: fc.nat(),
      times: fc.constantFrom(1, 2, 10, 1000, 20_000),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('rename' as const), node: fc.nat(), key: fc.nat({ max: KEYS.length - 1 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wrap' as const), node: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('graft' as const), node: fc.nat(), from: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('string-part' as const), node: fc.nat(), at: fc.nat(), token: fc.nat() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('recurse' as const),
      node: fc.nat(),
      inner: fc.nat(),
      depth: fc.constantFrom(2, 10, 100, 1000, 10_000),
    }),
  },
);

interface JsonNode {
  parent: Record<string, unknown> | unknown[] | null;
  key: string | number;
  value: unknown;
  /** Index of the parent's node (-1 for the root). */
  up: number;
}

function jsonNodes(root: unknown): JsonNode[] {
  const out: JsonNode[] = [{ parent: null, key: '', value: root, up: -1 }];
  for (let i = 0; i < out.length && out.length < 200_000; i++) {
    const v = out[i].value;
    if (Array.isArray(v)) v.forEach((c, k) => out.push({ parent: v, key: k, value: c, up: i }));
    else if (v !== null && typeof v === 'object')
      for (const [k, c] of Object.entries(v))
        out.push({ parent: v as Record<string, unknown>, key: k, value: c, up: i });
  }
  return out;
}

const keysOf = (v: unknown): string | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).sort().join('\u0000') : null;

/**
 * Objects with an ancestor of the same keys (a branch within a branch): where a document
 * repeats its own shape, its schema is recursive, and nesting it deeply tests that recursion.
 */
function selfSimilar(nodes: readonly JsonNode[]): [number, number][] {
  const pairs: [number, number][] = [];
  nodes.forEach((n, i) => {
    const keys = keysOf(n.value);
    if (keys === null || keys === '') return;
    for (let a = n.up, hops = 0; a >= 0 && hops < 12; a = nodes[a].up, hops++) {
      if (keysOf(nodes[a].value) === keys) pairs.push([a, i]);
    }
  });
  return pairs;
}

/** Applies one op; returns the (possibly new) root. `deep` records placeholders to expand after serialising. */
function applyJsonOp(root: unknown, m: JsonOp, deep: string[], words: readonly string[]): unknown {
  const nodes = jsonNodes(root);
  const target = nodes[m.node % nodes.length];
  const set = (value: unknown): unknown => {
    if (target.parent === null) return value;
    (target.parent as Record<string | number, unknown>)[target.key] = value;
    return root;
  };
  switch (m.op) {
    case 'replace':
      return set(structuredClone(INTERESTING_VALUES[m.value]));
    case 'deep': {
      deep.push(
        m.object ? '{"a":'.repeat(m.depth) + '1' + '}'.repeat(m.depth) : '['.repeat(m.depth) + ']'.repeat(m.depth),
      );
      return set(`${DEEP_MARK}${deep.length - 1}`);
    }
    case 'delete':
      if (Array.isArray(target.parent)) target.parent.splice(target.key as number, 1);
      else if (target.parent !== null) delete target.parent[target.key as string];
      return root;
    case 'duplicate': {
      if (Array.isArray(target.parent)) {
        // No more copies than the size limit holds (a large subtree 20,000 times is gigabytes).
        const size = (JSON.stringify(target.value) ?? '').length + 1;
        const times = Math.min(m.times, Math.floor(MAX_INPUT_BYTES / size));
        target.parent.splice(target.key as number, 0, ...Array.from({ length: times }, () => target.value));
      } else if (target.parent !== null) {
        // An object cannot hold a key twice; a copy under a new key, or a duplicate key in the text.
        target.parent[`${target.key as string}_`] = target.value;
      }
      return root;
    }
    case 'rename':
      if (target.parent !== null && !Array.isArray(target.parent)) {
        delete target.parent[target.key as string];
        Object.defineProperty(target.parent, KEYS[m.key], {
          value: target.value,
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return root;
    case 'wrap':
      return set([target.value]);
    case 'graft':
      return set(structuredClone(nodes[m.from % nodes.length].value));
    case 'string-part': {
      // One part of a structured string (`Debian:12`, a purl, a CPE, a NEVRA) becomes a word.
      const structured = nodes.filter((n) => typeof n.value === 'string' && SEPARATOR.test(n.value));
      if (structured.length === 0) return root;
      const node = structured[m.node % structured.length];
      const v = node.value as string;
      const seps = [...v.matchAll(/[:/@?=&.-]/g)].map((x) => x.index);
      const cut = seps.length === 0 ? 0 : seps[m.at % seps.length] + 1;
      const end = v.slice(cut).search(/[:/@?=&.-]/);
      const changed = v.slice(0, cut) + words[m.token % words.length] + (end === -1 ? '' : v.slice(cut + end));
      if (node.parent === null) return changed;
      (node.parent as Record<string | number, unknown>)[node.key] = changed;
      return root;
    }
    case 'recurse': {
      // A node nested in itself, at one of its own descendants, `depth` times: the shape of a
      // deep but valid-looking document, which 'deep' is not. Two times in three the pair is one
      // where the document already repeats its shape.
      const pairs = m.inner % 3 !== 0 ? selfSimilar(nodes) : [];
      let outer = target;
      let hole: JsonNode;
      if (pairs.length > 0) {
        const [a, d] = pairs[m.node % pairs.length];
        outer = nodes[a];
        hole = nodes[d];
      } else {
        const inner = jsonNodes(target.value);
        if (inner.length < 2) return root;
        hole = inner[1 + (m.inner % (inner.length - 1))];
      }
      const parent = hole.parent as Record<string | number, unknown>;
      const leaf = JSON.stringify(hole.value) ?? 'null';
      const mark = `${DEEP_MARK}hole`;
      parent[hole.key] = mark;
      const [prefix, suffix] = (JSON.stringify(outer.value) ?? '').split(JSON.stringify(mark));
      parent[hole.key] = hole.value;
      if (suffix === undefined) return root;
      // Half the size limit at most: the rest of the document must fit too, or the cut makes it invalid JSON.
      const depth = Math.max(
        1,
        Math.min(m.depth, Math.floor(MAX_INPUT_BYTES / 2 / (prefix.length + suffix.length + 1))),
      );
      deep.push(prefix.repeat(depth) + leaf + suffix.repeat(depth));
      const placeholder = `${DEEP_MARK}${deep.length - 1}`;
      if (outer.parent === null) return placeholder;
      (outer.parent as Record<string | number, unknown>)[outer.key] = placeholder;
      return root;
    }
  }
}

function serialiseJson(root: unknown, deep: readonly string[], indent: boolean): Uint8Array {
  let text = JSON.stringify(root, null, indent ? 2 : undefined) ?? 'null';
  deep.forEach((d, i) => {
    text = text.replace(JSON.stringify(`${DEEP_MARK}${i}`), () => d);
  });
  return utf8(text);
}

/** Cuts an input back to MAX_INPUT_BYTES. */
const bounded = (data: Uint8Array): Uint8Array =>
  data.length > MAX_INPUT_BYTES ? data.subarray(0, MAX_INPUT_BYTES) : data;

/**
 * Inputs for a target: its seeds mutated (most of the time), random bytes, and sequences of
 * the format's own words (`dictionary`: field names, magic strings, keywords).
 */
export function inputs(
  seeds: readonly Seed[],
  kind: InputKind,
  dictionary: readonly string[] = [],
): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new Error('a fuzz target needs at least one seed');
  const tokens = [...COMMON_TOKENS, ...dictionary.map(utf8)];
  const seedIndex = fc.nat({ max: seeds.length - 1 });
  const bytes = byteOp(tokens.length);
  const ops: fc.Arbitrary<ByteOp | LineOp> =
    kind === 'binary'
      ? fc.oneof(bytes, intOp)
      : fc.oneof({ weight: 3, arbitrary: bytes }, { weight: 2, arbitrary: lineOp(tokens.length) });
  const isLineOp = (m: ByteOp | LineOp): m is LineOp =>
    m.op.startsWith('line-') || m.op === 'number' || m.op === 'rename-field' || m.op === 'word';
  const mutate = (data: Uint8Array, list: readonly (ByteOp | LineOp)[]): Uint8Array => {
    let out = data;
    for (const m of list)
      out = bounded(isLineOp(m) ? applyLineOp(out, m, seeds, tokens) : applyByteOp(out, m, seeds, tokens));
    return out;
  };

  const mutated = fc
    .tuple(seedIndex, fc.array(ops, { minLength: 1, maxLength: 6 }))
    .map(([i, list]) => mutate(seeds[i].bytes, list));
  const random = fc.uint8Array({ maxLength: 4096 });
  const words = fc
    .array(fc.oneof(fc.constantFrom(...tokens), fc.uint8Array({ maxLength: 8 })), { maxLength: 64 })
    .map((parts) => concat(parts));
  const arbitraries: fc.WeightedArbitrary<Uint8Array>[] = [
    { weight: 12, arbitrary: mutated },
    { weight: 1, arbitrary: random },
    { weight: 2, arbitrary: words },
  ];
  if (kind === 'json') {
    const words = [...COMMON_WORDS, ...dictionary];
    const parsed = seeds.map((s) => {
      try {
        return { ok: true as const, value: JSON.parse(Buffer.from(s.bytes).toString('utf8')) as unknown };
      } catch {
        return { ok: false as const };
      }
    });
    // Mostly well-formed JSON (the structure is the point), sometimes damaged afterwards too.
    const afterwards = fc.oneof(
      { weight: 2, arbitrary: fc.constant([]) },
      { weight: 1, arbitrary: fc.array(bytes, { minLength: 1, maxLength: 2 }) },
    );
    const structural = fc
      .tuple(seedIndex, fc.array(jsonOp, { minLength: 1, maxLength: 4 }), afterwards, fc.boolean())
      .map(([i, list, after, indent]) => {
        const p = parsed[i];
        if (!p.ok) return mutate(seeds[i].bytes, after);
        const deep: string[] = [];
        let root = structuredClone(p.value);
        for (const m of list) root = applyJsonOp(root, m, deep, words);
        return mutate(bounded(serialiseJson(root, deep, indent)), after);
      });
    arbitraries.push({ weight: 14, arbitrary: structural });
    arbitraries.push({
      weight: 1,
      arbitrary: fc.jsonValue({ maxDepth: 6 }).map((v) => utf8(JSON.stringify(v) ?? 'null')),
    });
  }
  return fc.oneof(...arbitraries);
}
