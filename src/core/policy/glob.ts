// The `*` glob of policies: package names, host names and systemd unit names.

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

/** Whether a name matches a `*` glob (the only wildcard policies use). */
export function globMatch(glob: string, name: string): boolean {
  return globToRegExp(glob).test(name);
}
