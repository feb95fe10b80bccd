// Debian major versions and their codenames: the security-support lists are named by major
// version (`security-support-ended.deb12`), while advisory entries and hosts use codenames.
const CODENAMES: Readonly<Record<number, string>> = {
  9: 'stretch',
  10: 'buster',
  11: 'bullseye',
  12: 'bookworm',
  13: 'trixie',
  14: 'forky',
  15: 'duke',
};

/** The codename of a Debian major version, or null when it is not known. */
export function codenameOf(major: number): string | null {
  return CODENAMES[major] ?? null;
}
