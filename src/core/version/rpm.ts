// RPM version ordering, as rpm 4.15+ does it: rpmvercmp for one field, and rpm's own EVR
// split and comparison (rpmverParse + rpmverCmp, which `rpm.vercmp` and python's
// `rpm.labelCompare` use) for whole `[epoch:]version[-release]` strings.
//
// EVR rules, all rpm's:
// - the epoch is the leading run of digits when a colon follows it (`:1.0` has epoch 0);
//   otherwise there is no epoch and the whole string up to the release is the version;
// - the release starts after the LAST hyphen (so `1.0-1-2` is version `1.0-1`, release `2`);
// - a missing epoch counts as 0; epochs, versions and releases compare with rpmvercmp;
// - a missing release sorts BEFORE any release, even an empty one (`1.0` < `1.0-1`,
//   `1.0` < `1.0-`). This is rpm's ordering of full EVRs; its dependency matching, which
//   lets `>= 1.0` match any release, is a different question from ordering.
//
// Which inputs are refused: rpm refuses only the empty string. Whitespace and control
// characters are refused too (rpm would treat them as separators, but rpmbuild never lets
// them into a package's version or release, so seeing one means the input was mangled).
import { InvalidVersionError, type VersionScheme } from './scheme.ts';

/** A parsed `[epoch:]version[-release]`. */
export interface Evr {
  /** The epoch digits as written (`""` before a colon reads as `"0"`); null when absent. */
  epoch: string | null;
  version: string;
  /** null when the string has no hyphen. */
  release: string | null;
}

const CH_0 = 48;
const CH_9 = 57;
const CH_TILDE = 126;
const CH_CARET = 94;
const CH_COLON = 58;
const CH_HYPHEN = 45;

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isAlnum(c: number): boolean {
  return isDigit(c) || isAlpha(c);
}

/** A byte rpmvercmp skips over: neither alphanumeric nor `~` / `^`. Non-ASCII counts as one. */
function isSeparator(c: number): boolean {
  return !isAlnum(c) && c !== CH_TILDE && c !== CH_CARET;
}

/**
 * rpmvercmp over a[as, ae) and b[bs, be): alternating runs of digits and letters, anything
 * else separates; `~` sorts before everything (even the end), `^` after the end but before
 * anything else; digits beat letters; numbers compare by value at any length.
 */
function vercmpRange(a: string, as: number, ae: number, b: string, bs: number, be: number): -1 | 0 | 1 {
  let i = as;
  let j = bs;
  while (i < ae || j < be) {
    while (i < ae && isSeparator(a.charCodeAt(i))) i++;
    while (j < be && isSeparator(b.charCodeAt(j))) j++;
    const ca = i < ae ? a.charCodeAt(i) : 0;
    const cb = j < be ? b.charCodeAt(j) : 0;

    if (ca === CH_TILDE || cb === CH_TILDE) {
      if (ca !== CH_TILDE) return 1;
      if (cb !== CH_TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === CH_CARET || cb === CH_CARET) {
      if (i >= ae) return -1;
      if (j >= be) return 1;
      if (ca !== CH_CARET) return 1;
      if (cb !== CH_CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (i >= ae || j >= be) break;

    // One segment from each side, of the type of a's segment.
    const numeric = isDigit(ca);
    let ie = i;
    let je = j;
    if (numeric) {
      while (ie < ae && isDigit(a.charCodeAt(ie))) ie++;
      while (je < be && isDigit(b.charCodeAt(je))) je++;
    } else {
      while (ie < ae && isAlpha(a.charCodeAt(ie))) ie++;
      while (je < be && isAlpha(b.charCodeAt(je))) je++;
    }
    // b's segment is of the other type: a number is newer than letters.
    if (je === j) return numeric ? 1 : -1;

    if (numeric) {
      while (i < ie && a.charCodeAt(i) === CH_0) i++;
      while (j < je && b.charCodeAt(j) === CH_0) j++;
      const la = ie - i;
      const lb = je - j;
      if (la !== lb) return la > lb ? 1 : -1;
    }
    const r = compareBytes(a, i, ie, b, j, je);
    if (r !== 0) return r;
    i = ie;
    j = je;
  }
  // Every segment equal; whichever side still has characters (separators) left wins.
  if (i >= ae && j >= be) return 0;
  return i >= ae ? -1 : 1;
}

/** strcmp of two ASCII alphanumeric runs. */
function compareBytes(a: string, i: number, ie: number, b: string, j: number, je: number): -1 | 0 | 1 {
  while (i < ie && j < je) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d < 0 ? -1 : 1;
    i++;
    j++;
  }
  if (i < ie) return 1;
  if (j < je) return -1;
  return 0;
}

/** rpm's rpmvercmp on one field (a version, a release, an epoch). Accepts any string. */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  return vercmpRange(a, 0, a.length, b, 0, b.length);
}

/** Where the parts of one EVR sit in its string; reused to keep comparisons allocation-free. */
interface Span {
  /** -1 when there is no epoch. */
  epochEnd: number;
  verStart: number;
  verEnd: number;
  /** -1 when there is no release. */
  relStart: number;
}

const spanA: Span = { epochEnd: -1, verStart: 0, verEnd: 0, relStart: -1 };
const spanB: Span = { epochEnd: -1, verStart: 0, verEnd: 0, relStart: -1 };

function scan(s: string, out: Span): string | null {
  const n = s.length;
  if (n === 0) return 'version string is empty';
  let hyphen = -1;
  let digitsEnd = -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f)) {
      return `${c === 0x20 ? 'space' : 'control character'} at offset ${i}`;
    }
    if (digitsEnd < 0 && !isDigit(c)) digitsEnd = i;
    if (c === CH_HYPHEN) hyphen = i;
  }
  if (digitsEnd < 0) digitsEnd = n;
  if (digitsEnd < n && s.charCodeAt(digitsEnd) === CH_COLON) {
    out.epochEnd = digitsEnd;
    out.verStart = digitsEnd + 1;
  } else {
    out.epochEnd = -1;
    out.verStart = 0;
  }
  // rpm looks for the release hyphen only after the epoch digits (a hyphen can't be among them).
  if (hyphen >= 0) {
    out.verEnd = hyphen;
    out.relStart = hyphen + 1;
  } else {
    out.verEnd = n;
    out.relStart = -1;
  }
  return null;
}

/** Epochs compare with rpmvercmp, a missing or empty one reading as `0`. */
function compareEpochs(a: string, ea: number, b: string, eb: number): -1 | 0 | 1 {
  const aEnd = ea > 0 ? ea : -1;
  const bEnd = eb > 0 ? eb : -1;
  if (aEnd < 0 && bEnd < 0) return 0;
  if (aEnd < 0) return vercmpRange('0', 0, 1, b, 0, bEnd);
  if (bEnd < 0) return vercmpRange(a, 0, aEnd, '0', 0, 1);
  return vercmpRange(a, 0, aEnd, b, 0, bEnd);
}

/** null when the rpm scheme orders `s`, else the reason it is refused. */
export function validateEvr(s: string): string | null {
  return scan(s, spanA);
}

/** Splits `[epoch:]version[-release]` the way rpm does; throws InvalidVersionError when refused. */
export function parseEvr(s: string): Evr {
  const why = scan(s, spanA);
  if (why !== null) throw new InvalidVersionError('rpm', s, why);
  const epoch = spanA.epochEnd < 0 ? null : spanA.epochEnd === 0 ? '0' : s.slice(0, spanA.epochEnd);
  return {
    epoch,
    version: s.slice(spanA.verStart, spanA.verEnd),
    release: spanA.relStart < 0 ? null : s.slice(spanA.relStart),
  };
}

/** Orders two parsed EVRs as rpm does (see the module comment for the missing-part rules). */
export function compareEvr(a: Evr, b: Evr): -1 | 0 | 1 {
  const e = rpmvercmp(a.epoch ?? '0', b.epoch ?? '0');
  if (e !== 0) return e;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === null || b.release === null) {
    if (a.release === b.release) return 0;
    return a.release === null ? -1 : 1;
  }
  return rpmvercmp(a.release, b.release);
}

/** Orders two `[epoch:]version[-release]` strings as rpm does; throws for a refused one. */
export function compareRpmVersions(a: string, b: string): -1 | 0 | 1 {
  const whyA = scan(a, spanA);
  if (whyA !== null) throw new InvalidVersionError('rpm', a, whyA);
  const whyB = scan(b, spanB);
  if (whyB !== null) throw new InvalidVersionError('rpm', b, whyB);
  if (a === b) return 0;
  const e = compareEpochs(a, spanA.epochEnd, b, spanB.epochEnd);
  if (e !== 0) return e;
  const v = vercmpRange(a, spanA.verStart, spanA.verEnd, b, spanB.verStart, spanB.verEnd);
  if (v !== 0) return v;
  if (spanA.relStart < 0 || spanB.relStart < 0) {
    if (spanA.relStart === spanB.relStart) return 0;
    return spanA.relStart < 0 ? -1 : 1;
  }
  return vercmpRange(a, spanA.relStart, a.length, b, spanB.relStart, b.length);
}

export const rpm: VersionScheme = {
  name: 'rpm',
  compare: compareRpmVersions,
  validate: validateEvr,
};
