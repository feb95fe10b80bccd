// Alpine version ordering, as apk-tools does it (src/version.c, what `apk version -t` runs):
//   digit{.digit}...{letter}{_suffix{number}}...{~hash}{-rN}
// Pre-release suffixes _alpha < _beta < _pre < _rc sort below the plain release; _cvs < _svn
// < _git < _hg < _p sort above it. A number after the first that starts with `0` compares as
// a string against its counterpart (Gentoo's rule: 1.01 < 1.1, 1.0 < 1.00). `apk version -t`
// refuses anything its tokenizer does not accept; so does this scheme.
//
// Which apk-tools: the ordering is apk-tools 3's (Alpine 3.23 on). Its grammar is widened
// by one form apk-tools 2.x (Alpine up to 3.22) accepts and 3 refuses: a number straight
// after the letter, as in `5.7.1p1-r0` (old openssh builds; still in Alpine's security
// data). It reads as one more number token, which is how apk-tools 2.x orders it.
// Numbers: apk reads them into 64 bits, so values past 2^64 wrap there; here they are
// compared by their full value.
import { InvalidVersionError, type VersionScheme } from './scheme.ts';

// Token kinds in apk-tools' order: at the end of the shorter version, the side whose next
// token comes later in this order is the smaller (apart from pre-release suffixes).
const INITIAL_DIGIT = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const COMMIT_HASH = 5;
const REVISION_NO = 6;
const END = 7;
const INVALID = 8;

// Suffix names by rank; NONE (the plain release, rank 4) sits between the pre-release and
// post-release ones, so its slot here is empty.
const SUFFIXES = ['alpha', 'beta', 'pre', 'rc', '', 'cvs', 'svn', 'git', 'hg', 'p'];
const SUFFIX_NONE = 4;

const CH_0 = 48;
const CH_DOT = 46;
const CH_UNDERSCORE = 95;
const CH_TILDE = 126;
const CH_HYPHEN = 45;
const CH_R = 114;

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= 57;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102);
}

/** Rank of the suffix name s[start, end), or -1; compares in place to allocate nothing. */
function suffixRank(s: string, start: number, end: number): number {
  const len = end - start;
  if (len === 0) return -1;
  for (let rank = 0; rank < SUFFIXES.length; rank++) {
    const name = SUFFIXES[rank];
    if (name.length === len && s.startsWith(name, start)) return rank;
  }
  return -1;
}

/** apk-tools' token_state: walks one version string token by token, without allocating. */
class Tokenizer {
  s = '';
  pos = 0;
  token = INVALID;
  suffix = 0;
  /** The token's text is s[start, end). */
  start = 0;
  end = 0;
  /** Why the version is invalid, once token is INVALID. */
  why = '';

  first(s: string): void {
    this.s = s;
    this.pos = 0;
    this.token = INITIAL_DIGIT;
    this.why = '';
    this.digits();
    if (this.token === INVALID)
      this.why = s.length === 0 ? 'version string is empty' : 'version must start with a digit';
  }

  next(): void {
    const s = this.s;
    if (this.pos >= s.length) {
      this.token = END;
      return;
    }
    const c = s.charCodeAt(this.pos);
    const prev = this.token;
    if (isLower(c)) {
      if (prev > DIGIT) return this.invalid('a letter may only follow a number');
      this.start = this.pos;
      this.end = ++this.pos;
      this.token = LETTER;
    } else if (c === CH_DOT || isDigit(c)) {
      if (c === CH_DOT) {
        if (prev > DIGIT) return this.invalid('a "." may only follow a number');
        this.pos++;
      }
      // A number straight after a letter (`5.7.1p1`) is apk-tools 2.x grammar; see the header.
      if (prev === INITIAL_DIGIT || prev === DIGIT || (prev === LETTER && c !== CH_DOT)) this.token = DIGIT;
      else if (prev === SUFFIX) this.token = SUFFIX_NO;
      else return this.invalid('a number may not follow the previous part');
      this.digits();
      if (this.token === INVALID) this.why = `"." must be followed by digits (offset ${this.pos})`;
    } else if (c === CH_UNDERSCORE) {
      if (prev > SUFFIX_NO) return this.invalid('a suffix may not follow a hash or revision');
      let i = ++this.pos;
      while (i < s.length && isLower(s.charCodeAt(i))) i++;
      const rank = suffixRank(s, this.pos, i);
      if (rank < 0) return this.invalid(`unknown suffix "_${s.slice(this.pos, i)}"`);
      this.start = this.pos;
      this.end = this.pos = i;
      this.suffix = rank;
      this.token = SUFFIX;
    } else if (c === CH_TILDE) {
      if (prev >= COMMIT_HASH) return this.invalid('a "~hash" may appear once, before the revision');
      let i = ++this.pos;
      while (i < s.length && isHex(s.charCodeAt(i))) i++;
      if (i === this.pos) return this.invalid('"~" must be followed by lowercase hex digits');
      this.start = this.pos;
      this.end = this.pos = i;
      this.token = COMMIT_HASH;
    } else if (c === CH_HYPHEN) {
      if (prev >= REVISION_NO) return this.invalid('only one "-r" revision is allowed');
      if (s.charCodeAt(this.pos + 1) !== CH_R) return this.invalid('a hyphen must start a "-rN" revision');
      this.pos += 2;
      this.token = REVISION_NO;
      this.digits();
      if (this.token === INVALID) this.why = '"-r" must be followed by digits';
    } else {
      this.invalid(`unexpected character ${JSON.stringify(s[this.pos])}`);
    }
  }

  private digits(): void {
    const s = this.s;
    let i = this.pos;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    this.start = this.pos;
    this.end = this.pos = i;
    if (this.start === this.end) this.token = INVALID;
  }

  private invalid(why: string): void {
    this.token = INVALID;
    this.why = `${why} (offset ${this.pos})`;
  }

  /** Runs to the end; null when the rest of the version is valid, else why not. */
  finish(): string | null {
    while (this.token < END) this.next();
    return this.token === END ? null : this.why;
  }
}

const ta = new Tokenizer();
const tb = new Tokenizer();

/** Numeric value order of two digit runs, at any length. */
function compareNumbers(a: string, as: number, ae: number, b: string, bs: number, be: number): -1 | 0 | 1 {
  while (as < ae && a.charCodeAt(as) === CH_0) as++;
  while (bs < be && b.charCodeAt(bs) === CH_0) bs++;
  if (ae - as !== be - bs) return ae - as < be - bs ? -1 : 1;
  return compareStrings(a, as, ae, b, bs, be);
}

/** apk_blob_sort: bytewise, then the shorter first. */
function compareStrings(a: string, as: number, ae: number, b: string, bs: number, be: number): -1 | 0 | 1 {
  while (as < ae && bs < be) {
    const d = a.charCodeAt(as) - b.charCodeAt(bs);
    if (d !== 0) return d < 0 ? -1 : 1;
    as++;
    bs++;
  }
  if (as < ae) return 1;
  if (bs < be) return -1;
  return 0;
}

function compareTokens(x: Tokenizer, y: Tokenizer): -1 | 0 | 1 {
  switch (x.token) {
    case DIGIT:
      if (x.s.charCodeAt(x.start) === CH_0 || y.s.charCodeAt(y.start) === CH_0) {
        return compareStrings(x.s, x.start, x.end, y.s, y.start, y.end);
      }
      return compareNumbers(x.s, x.start, x.end, y.s, y.start, y.end);
    case INITIAL_DIGIT:
    case SUFFIX_NO:
    case REVISION_NO:
      return compareNumbers(x.s, x.start, x.end, y.s, y.start, y.end);
    case LETTER: {
      const d = x.s.charCodeAt(x.start) - y.s.charCodeAt(y.start);
      return d < 0 ? -1 : d > 0 ? 1 : 0;
    }
    case SUFFIX:
      return x.suffix < y.suffix ? -1 : x.suffix > y.suffix ? 1 : 0;
    default:
      return compareStrings(x.s, x.start, x.end, y.s, y.start, y.end);
  }
}

/**
 * apk_version_compare on two versions, valid or not: the token walk stops at the first
 * difference, so a version that turns invalid after that point is still ordered, and an
 * invalid token sorts below any valid one. This is what apk-tools' own unit tests exercise;
 * `apk version -t` (and the scheme below) refuse invalid versions first.
 */
export function apkVersionCompareUnchecked(a: string, b: string): -1 | 0 | 1 {
  ta.first(a);
  tb.first(b);
  return walk();
}

function walk(): -1 | 0 | 1 {
  while (ta.token === tb.token && ta.token < END) {
    const r = compareTokens(ta, tb);
    if (r !== 0) return r;
    ta.next();
    tb.next();
  }
  if (ta.token === tb.token) return 0;
  // Equal so far; the longer version is newer unless what follows is a pre-release suffix.
  if (ta.token === SUFFIX && ta.suffix < SUFFIX_NONE) return -1;
  if (tb.token === SUFFIX && tb.suffix < SUFFIX_NONE) return 1;
  return ta.token > tb.token ? -1 : ta.token < tb.token ? 1 : 0;
}

/** null when apk accepts the version, else the reason it does not. */
export function validateApkVersion(v: string): string | null {
  ta.first(v);
  return ta.finish();
}

/** Orders two Alpine versions as `apk version -t` does; throws InvalidVersionError for an invalid one. */
export function compareApkVersions(a: string, b: string): -1 | 0 | 1 {
  ta.first(a);
  tb.first(b);
  const r = walk();
  // The walk may stop before the end; the rest of both must still be valid.
  const whyA = ta.finish();
  if (whyA !== null) throw new InvalidVersionError('apk', a, whyA);
  const whyB = tb.finish();
  if (whyB !== null) throw new InvalidVersionError('apk', b, whyB);
  return r;
}

/** A parsed Alpine version: everything before `-rN`, and N (0 when absent). */
export interface ApkVersion {
  version: string;
  revision: number;
}

/** Splits an Alpine version into its version and `-rN` revision; throws when invalid. */
export function parseApkVersion(v: string): ApkVersion {
  const why = validateApkVersion(v);
  if (why !== null) throw new InvalidVersionError('apk', v, why);
  const at = v.lastIndexOf('-r');
  if (at < 0) return { version: v, revision: 0 };
  return { version: v.slice(0, at), revision: Number(v.slice(at + 2)) };
}

export const apk: VersionScheme = {
  name: 'apk',
  compare: compareApkVersions,
  validate: validateApkVersion,
};
