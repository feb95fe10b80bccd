// Test support only (imports the dev dependency fast-check): generators of valid and invalid
// version strings for each scheme, used by the property tests and the cross-checks against
// the real dpkg and rpm. Small alphabets on purpose, so that generated versions often share
// prefixes and reach the interesting branches (equal digits, `~` against end, and so on).
import fc from 'fast-check';

function joined(parts: fc.Arbitrary<string>, min: number, max: number): fc.Arbitrary<string> {
  return fc.array(parts, { minLength: min, maxLength: max }).map((xs) => xs.join(''));
}

const digits = fc.constantFrom('0', '1', '2', '9', '00', '01', '10', '99', '123456789012345678901234567890');

// ---- deb ----

const debUpstreamPart = fc.oneof(digits, fc.constantFrom('a', 'b', 'Z', 'z', '.', '+', '~', '~~'));
const debRevisionPart = fc.oneof(digits, fc.constantFrom('a', 'b', 'Z', '.', '+', '~'));

/** A Debian epoch as written (possibly with leading zeros), within dpkg's limit. */
export const debEpoch = fc.oneof(
  fc.constantFrom('0', '1', '2', '01', '10', '2147483647'),
  fc.integer({ min: 0, max: 2147483647 }).map(String),
);

/** Upstream part: starts with a digit; colons only count as such when an epoch is present. */
export function debUpstream(opts: { hyphens: boolean; colons: boolean }): fc.Arbitrary<string> {
  const extra = [opts.hyphens ? '-' : '', opts.colons ? ':' : ''].filter((x) => x !== '');
  const part = extra.length > 0 ? fc.oneof(debUpstreamPart, fc.constantFrom(...extra)) : debUpstreamPart;
  return fc.tuple(digits, joined(part, 0, 5)).map(([d, rest]) => d + rest);
}

export const debRevision = joined(debRevisionPart, 1, 4);

/** A version dpkg accepts without warnings. */
export const debVersion: fc.Arbitrary<string> = fc
  .tuple(fc.option(debEpoch, { nil: undefined }), fc.option(debRevision, { nil: undefined }))
  .chain(([epoch, revision]) =>
    debUpstream({ hyphens: revision !== undefined, colons: epoch !== undefined }).map(
      (up) => `${epoch === undefined ? '' : `${epoch}:`}${up}${revision === undefined ? '' : `-${revision}`}`,
    ),
  );

/** Strings dpkg refuses outright (hard errors), each built to break one rule. */
export const debInvalid: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.constantFrom(' ', '\t'),
  fc.tuple(debVersion, fc.constantFrom(' ', '\t'), debVersion).map(([a, blank, b]) => a + blank + b),
  debVersion.map((v) => `${v}-`),
  debVersion.map((v) => `:${v}`),
  fc
    .tuple(fc.constantFrom('a', 'x1', '1a', '1.0', '-1', '+'), debVersion)
    .map(([e, v]) => `${e}:${v.replace(/^\d+:/, '')}`),
  fc.bigInt({ min: 2147483648n, max: 10n ** 30n }).map((e) => `${e}:1.0`),
  debEpoch.map((e) => `${e}:`),
  debEpoch.map((e) => `${e}:-1`),
  debVersion.map((v) => `${v}\u00e9`),
  debVersion.map((v) => `${v}\u0001`),
);

// ---- rpm ----

const rpmPart = fc.oneof(digits, fc.constantFrom('a', 'b', 'Z', 'rc', 'git', '.', '_', '+', '~', '^', '~~', '\u03b1'));

/** A version or release field: any mix of segments, separators, `~` and `^` (no `-`). */
export const rpmField = joined(rpmPart, 1, 6);

export const rpmEpoch = fc.oneof(fc.constantFrom('0', '1', '2', '01', '10'), fc.nat().map(String));

/** A whole `[epoch:]version[-release]` string. */
export const rpmEvr: fc.Arbitrary<string> = fc
  .tuple(fc.option(rpmEpoch, { nil: undefined }), rpmField, fc.option(rpmField, { nil: undefined }))
  .map(([e, v, r]) => `${e === undefined ? '' : `${e}:`}${v}${r === undefined ? '' : `-${r}`}`);

/** Strings the rpm scheme refuses: empty, or carrying whitespace or control characters. */
export const rpmInvalid: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.tuple(rpmEvr, fc.constantFrom(' ', '\t', '\n', '\u0000', '\u007f'), rpmEvr).map(([a, c, b]) => a + c + b),
);

// ---- apk ----

const apkSuffix = fc.constantFrom('alpha', 'beta', 'pre', 'rc', 'cvs', 'svn', 'git', 'hg', 'p');

/** A version apk-tools accepts: digit{.digit}[letter][_suffix[N]]...[~hash][-rN]. */
export const apkVersion: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(digits, { minLength: 1, maxLength: 4 }),
    fc.option(fc.constantFrom('a', 'b', 'z'), { nil: undefined }),
    fc.array(fc.tuple(apkSuffix, fc.option(digits, { nil: undefined })), { maxLength: 3 }),
    fc.option(fc.constantFrom('0', '1a', 'abc', 'f00', '1234'), { nil: undefined }),
    fc.option(digits, { nil: undefined }),
  )
  .map(
    ([nums, letter, suffixes, hash, rev]) =>
      nums.join('.') +
      (letter ?? '') +
      suffixes.map(([s, n]) => `_${s}${n ?? ''}`).join('') +
      (hash === undefined ? '' : `~${hash}`) +
      (rev === undefined ? '' : `-r${rev}`),
  );

/** Arbitrary strings over apk's alphabet and a few characters outside it: mostly invalid. */
export const apkAnyString = joined(
  fc.constantFrom('1', '0', '.', 'a', 'r', 'p', '_', '_p', '_rc', '_x', '-', '-r', '~', 'f', 'A', ' ', ''),
  0,
  8,
);
