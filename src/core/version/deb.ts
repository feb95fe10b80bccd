// Debian version ordering, as `dpkg --compare-versions` does it (dpkg's parseversion and
// verrevcmp): [epoch:]upstream[-revision], split on the first colon and the last hyphen.
//
// Which inputs are refused: dpkg itself has two levels. Hard errors (empty, embedded blank,
// bad epoch, nothing after the colon, empty upstream or revision) make dpkg refuse; these
// throw InvalidVersionError here. "Does not start with a digit" and "invalid character"
// are only warnings for `dpkg --compare-versions` and for the status database (dpkg's lax
// parser), which then orders the version anyway; they are ordered here too, and
// `debVersionWarnings` reports them for callers that want dpkg's strict (build-time) rules.
// One deliberate difference: characters outside printable ASCII are refused, because dpkg
// orders such bytes through a plain `char`, whose sign differs between platforms.
import { InvalidVersionError, type VersionScheme } from './scheme.ts';

/** A parsed Debian version. */
export interface DebVersion {
  epoch: number;
  upstream: string;
  /** Empty when the version has no revision (ordered like `0`). */
  revision: string;
}

const INT_MAX = 2147483647;
const CH_0 = 48;
const CH_9 = 57;
const CH_TILDE = 126;
const CH_COLON = 58;
const CH_HYPHEN = 45;
const CH_PLUS = 43;
const CH_SPACE = 32;
const CH_TAB = 9;

/** Where the parts of one version sit in its string; reused to keep comparisons allocation-free. */
interface Span {
  epoch: number;
  upStart: number;
  upEnd: number;
  revStart: number;
  revEnd: number;
}

const spanA: Span = { epoch: 0, upStart: 0, upEnd: 0, revStart: 0, revEnd: 0 };
const spanB: Span = { epoch: 0, upStart: 0, upEnd: 0, revStart: 0, revEnd: 0 };

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isBlank(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB;
}

/** Fills `out` with the parts of `v`; returns null when valid, else dpkg's reason for refusing it. */
function scan(v: string, out: Span): string | null {
  let start = 0;
  let end = v.length;
  while (start < end && isBlank(v.charCodeAt(start))) start++;
  if (start === end) return 'version string is empty';
  while (isBlank(v.charCodeAt(end - 1))) end--;

  let colon = -1;
  let hyphen = -1;
  for (let i = start; i < end; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) {
      if (isBlank(c)) return 'version string has embedded spaces';
      return `character ${describe(c)} at offset ${i} is not printable ASCII`;
    }
    if (c === CH_COLON) {
      if (colon < 0) colon = i;
    } else if (c === CH_HYPHEN) {
      hyphen = i;
    }
  }

  let upStart = start;
  out.epoch = 0;
  if (colon >= 0) {
    const epoch = parseEpoch(v, start, colon);
    if (typeof epoch === 'string') return epoch;
    if (colon + 1 === end) return 'nothing after colon in version number';
    out.epoch = epoch;
    upStart = colon + 1;
  }
  // The revision starts after the last hyphen of the part after the epoch.
  if (hyphen >= upStart) {
    if (hyphen + 1 === end) return 'revision number is empty';
    out.upEnd = hyphen;
    out.revStart = hyphen + 1;
  } else {
    out.upEnd = end;
    out.revStart = end;
  }
  out.upStart = upStart;
  out.revEnd = end;
  if (out.upStart === out.upEnd) return 'upstream version is empty';
  return null;
}

/** dpkg reads the epoch with strtol, so an optional sign is accepted and `-0` is zero. */
function parseEpoch(v: string, start: number, colon: number): number | string {
  let i = start;
  let negative = false;
  const sign = v.charCodeAt(i);
  if (sign === CH_PLUS || sign === CH_HYPHEN) {
    negative = sign === CH_HYPHEN;
    i++;
  }
  const digitsStart = i;
  let value = 0;
  while (i < colon && isDigit(v.charCodeAt(i))) {
    // Saturate: anything past INT_MAX is refused below, so precision beyond it is irrelevant.
    if (value <= INT_MAX) value = value * 10 + (v.charCodeAt(i) - CH_0);
    i++;
  }
  if (i === digitsStart) return 'epoch in version is empty';
  if (i !== colon) return 'epoch in version is not number';
  if (negative && value !== 0) return 'epoch in version is negative';
  if (value > INT_MAX) return 'epoch in version is too big';
  return value;
}

function describe(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** dpkg's `order`: `~` first, then end of string and digits, then letters, then other symbols. */
function order(c: number): number {
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === CH_TILDE) return -1;
  if (c !== 0) return c + 256;
  return 0;
}

/** dpkg's verrevcmp over v[as, ae) and w[bs, be); digit runs compare by value at any length. */
function verrevcmp(v: string, as: number, ae: number, w: string, bs: number, be: number): -1 | 0 | 1 {
  let i = as;
  let j = bs;
  while (i < ae || j < be) {
    for (;;) {
      const ca = i < ae ? v.charCodeAt(i) : 0;
      const cb = j < be ? w.charCodeAt(j) : 0;
      if (!((ca !== 0 && !isDigit(ca)) || (cb !== 0 && !isDigit(cb)))) break;
      const oa = order(ca);
      const ob = order(cb);
      if (oa !== ob) return oa < ob ? -1 : 1;
      i++;
      j++;
    }
    while (i < ae && v.charCodeAt(i) === CH_0) i++;
    while (j < be && w.charCodeAt(j) === CH_0) j++;
    let firstDiff = 0;
    while (i < ae && j < be) {
      const ca = v.charCodeAt(i);
      const cb = w.charCodeAt(j);
      if (!isDigit(ca) || !isDigit(cb)) break;
      if (firstDiff === 0) firstDiff = ca - cb;
      i++;
      j++;
    }
    if (i < ae && isDigit(v.charCodeAt(i))) return 1;
    if (j < be && isDigit(w.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff < 0 ? -1 : 1;
  }
  return 0;
}

/** null when dpkg orders `v` (possibly with a warning), else the reason it is refused. */
export function validateDebVersion(v: string): string | null {
  return scan(v, spanA);
}

/** Parses a Debian version; throws InvalidVersionError when dpkg would refuse it. */
export function parseDebVersion(v: string): DebVersion {
  const why = scan(v, spanA);
  if (why !== null) throw new InvalidVersionError('deb', v, why);
  return {
    epoch: spanA.epoch,
    upstream: v.slice(spanA.upStart, spanA.upEnd),
    revision: v.slice(spanA.revStart, spanA.revEnd),
  };
}

/**
 * What dpkg's strict parser (used when building packages) would object to in a version the
 * lax parser accepts: an upstream part that does not start with a digit, or characters
 * outside dpkg's allowed sets. Empty for a clean version. Throws for a refused version.
 */
export function debVersionWarnings(v: string): string[] {
  const why = scan(v, spanA);
  if (why !== null) throw new InvalidVersionError('deb', v, why);
  const warnings: string[] = [];
  if (!isDigit(v.charCodeAt(spanA.upStart))) warnings.push('version number does not start with digit');
  for (let i = spanA.upStart; i < spanA.upEnd; i++) {
    const c = v.charCodeAt(i);
    if (!isDigit(c) && !isAlpha(c) && '.-+~:'.indexOf(v[i]) < 0) {
      warnings.push(`invalid character in version number: ${JSON.stringify(v[i])}`);
      break;
    }
  }
  for (let i = spanA.revStart; i < spanA.revEnd; i++) {
    const c = v.charCodeAt(i);
    if (!isDigit(c) && !isAlpha(c) && '.+~'.indexOf(v[i]) < 0) {
      warnings.push(`invalid character in revision number: ${JSON.stringify(v[i])}`);
      break;
    }
  }
  return warnings;
}

/** Orders two Debian versions as dpkg does; throws InvalidVersionError for a refused one. */
export function compareDebVersions(a: string, b: string): -1 | 0 | 1 {
  const whyA = scan(a, spanA);
  if (whyA !== null) throw new InvalidVersionError('deb', a, whyA);
  const whyB = scan(b, spanB);
  if (whyB !== null) throw new InvalidVersionError('deb', b, whyB);
  if (spanA.epoch !== spanB.epoch) return spanA.epoch < spanB.epoch ? -1 : 1;
  const up = verrevcmp(a, spanA.upStart, spanA.upEnd, b, spanB.upStart, spanB.upEnd);
  if (up !== 0) return up;
  return verrevcmp(a, spanA.revStart, spanA.revEnd, b, spanB.revStart, spanB.revEnd);
}

export const deb: VersionScheme = {
  name: 'deb',
  compare: compareDebVersions,
  validate: validateDebVersion,
};
