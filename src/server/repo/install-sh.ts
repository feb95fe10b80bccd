// GET /install.sh: the POSIX sh script that puts the agent on a host in one line,
//
//   curl -fsSL https://central.example:8443/install.sh | sudo sh -s -- --token TOKEN
//
// made for the server that serves it: its address and its repository keys are written into the
// script, so the key a host pins is the one that came over the same HTTPS connection. The
// script checks everything first (root, distribution and architecture, glibc, the package
// manager, a way to schedule the agent, a token unless the host is enrolled here already, the
// server answering with the same key) and changes nothing until all checks pass; then it adds
// the repository, installs the package, enrols and enables the daily run. A step that fails
// undoes what this run changed (files it wrote, the package it installed). Re-running is safe:
// files already in place are left as they are, an enrolled host is not enrolled again.
//
// The script is written without `${`: parameter expansions would be JavaScript interpolations
// here. Values from the server are inserted single-quoted and checked before (publicUrl).

/** What the script needs to know about the server that serves it. */
export interface InstallScriptInput {
  /** The server's address as hosts reach it, e.g. https://central.example:8443 (no path). */
  server: string;
  /** The OpenPGP public key of the apt and dnf repositories (ASCII-armored). */
  openpgpKey: string;
  /** The apk key's file name in /etc/apk/keys and its PEM. */
  apkKeyName: string;
  apkKeyPem: string;
}

/** A value inside single quotes in sh (a quote itself closes, escapes and reopens). */
function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A here-document body must not contain its end marker on a line of its own. */
function heredoc(marker: string, body: string): string {
  if (body.split('\n').includes(marker)) throw new Error(`here-document body contains ${marker}`);
  return `${body.replace(/\n*$/, '')}\n${marker}`;
}

export function installScript(i: InstallScriptInput): string {
  return String.raw`#!/bin/sh
# patchloop agent installation from the patchloop server at ${i.server}
#
#   curl -fsSL ${i.server}/install.sh | sudo sh -s -- --token TOKEN
#
# Adds the server's package repository (apt, dnf or apk) with its signing key pinned, installs
# patchloop, enrols this host with the token and enables the daily agent run. Everything is
# checked before anything changes; a failed step undoes what this run changed; running it again
# is safe. Options: --help.
set -eu

${keyFunctions(i)}
SERVER=${shQuote(i.server)}
APK_KEY_NAME=${shQuote(i.apkKeyName)}

say() { printf 'patchloop install: %s\n' "$*"; }
die() { printf 'patchloop install: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<'USAGE'
usage: install.sh [--token TOKEN] [--insecure-http] [--no-timer] [--check]

  --token TOKEN     enrolment token (patchloop server enrollment-token, or the dashboard);
                    not needed when this host is enrolled with this server already
  --insecure-http   allow a server address that is plain http (the key and the packages
                    then come over an unauthenticated connection: tests and closed networks)
  --no-timer        do not enable the daily agent run
  --check           run the checks only and change nothing
USAGE
}

token=
insecure=0
timer=1
check_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --token)
      [ $# -ge 2 ] || die "--token needs a value"
      token=$2
      shift 2 ;;
    --token=*) token=$(printf '%s' "$1" | cut -d= -f2-); shift ;;
    --insecure-http) insecure=1; shift ;;
    --no-timer) timer=0; shift ;;
    --check) check_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

# --- checks: nothing is changed before all of them pass ------------------------------------

[ "$(id -u)" = 0 ] || die "run as root (sudo sh -s -- ...)"

case $SERVER in
  https://*) ;;
  http://*)
    [ "$insecure" = 1 ] || die "the server address $SERVER is plain http: the repository key and the packages would come unauthenticated. Serve patchloop over https, or pass --insecure-http to accept that."
    say "warning: plain http to $SERVER (--insecure-http)" ;;
  *) die "unexpected server address $SERVER" ;;
esac

if [ -n "$token" ]; then
  printf '%s' "$token" | grep -Eq '^ple_[A-Za-z0-9_-]+$' || die "--token: not an enrolment token (they start with ple_)"
fi

[ -r /etc/os-release ] || die "no /etc/os-release: cannot tell the distribution"
os_field() { sed -n "s/^$1=//p" /etc/os-release | head -n 1 | tr -d "\"'"; }
os_id=$(os_field ID)
os_like=$(os_field ID_LIKE)
os_name=$(os_field PRETTY_NAME)

family=
case " $os_id $os_like " in
  *" alpine "*) family=apk ;;
  *" debian "*|*" ubuntu "*) family=apt ;;
  *" rhel "*|*" fedora "*|*" centos "*|*" rocky "*|*" almalinux "*|*" ol "*|*" amzn "*) family=dnf ;;
esac
[ -n "$family" ] || die "$os_name ($os_id) is not supported: Debian, Ubuntu, the RHEL family, Amazon Linux 2023 and Alpine are"

machine=$(uname -m)
case $machine in
  x86_64|amd64|aarch64|arm64) ;;
  *) die "architecture $machine is not supported: x86_64 and aarch64 are" ;;
esac

if [ "$family" != apk ]; then
  # The executable is built for glibc 2.28 and newer (Debian 10, Ubuntu 20.04, RHEL 8, AL2023).
  glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc //p')
  [ -n "$glibc" ] || die "cannot tell the C library version (getconf GNU_LIBC_VERSION): the packages need glibc 2.28 or newer"
  glibc_major=$(echo "$glibc" | cut -d. -f1)
  glibc_minor=$(echo "$glibc" | cut -d. -f2)
  if [ "$glibc_major" -lt 2 ] || { [ "$glibc_major" -eq 2 ] && [ "$glibc_minor" -lt 28 ]; }; then
    die "$os_name has glibc $glibc; patchloop needs 2.28 or newer (Debian 10, Ubuntu 20.04, RHEL 8, Amazon Linux 2023 and later)"
  fi
fi

case $family in
  apt) command -v apt-get >/dev/null 2>&1 || die "apt-get is missing" ;;
  dnf)
    if command -v dnf >/dev/null 2>&1; then dnf=dnf
    elif command -v yum >/dev/null 2>&1; then dnf=yum
    else die "neither dnf nor yum is installed"
    fi ;;
  apk) command -v apk >/dev/null 2>&1 || die "apk is missing" ;;
esac

scheduler=none
if [ "$timer" = 1 ]; then
  if command -v systemctl >/dev/null 2>&1; then
    scheduler=systemd
  elif [ "$family" = apk ] && [ -d /etc/periodic/daily ]; then
    scheduler=periodic
  else
    die "no systemd (systemctl) to run the agent daily (Alpine: no /etc/periodic/daily): pass --no-timer and schedule 'patchloop agent run' yourself"
  fi
fi

installed_before=0
case $family in
  apt) dpkg-query -s patchloop 2>/dev/null | grep -q '^Status: install ok installed' && installed_before=1 ;;
  dnf) rpm -q patchloop >/dev/null 2>&1 && installed_before=1 ;;
  apk) apk info -e patchloop >/dev/null 2>&1 && installed_before=1 ;;
esac

# Enrolled with this server already (a re-run): no token needed, and none is used up.
enrolled=0
if [ "$installed_before" = 1 ] && command -v patchloop >/dev/null 2>&1; then
  status=$(patchloop agent status 2>/dev/null || true)
  if printf '%s\n' "$status" | grep -q '"enrolled": true' && printf '%s\n' "$status" | grep -Fq "\"server\": \"$SERVER\""; then
    enrolled=1
  fi
fi
[ "$enrolled" = 1 ] || [ -n "$token" ] || die "--token is required: this host is not enrolled with $SERVER"

# The server answers, over a connection this host trusts, with the key in this script.
fetch() {
  if command -v curl >/dev/null 2>&1; then curl -fsS --max-time 30 "$1"
  elif command -v wget >/dev/null 2>&1; then wget -q -T 30 -O - "$1"
  else return 127
  fi
}
served_key=$(fetch "$SERVER/repo/key.asc" 2>&1) && fetched=0 || fetched=$?
if [ "$fetched" = 127 ]; then
  say "neither curl nor wget here: the package manager will be the first to reach $SERVER"
elif [ "$fetched" != 0 ]; then
  die "cannot reach $SERVER/repo/key.asc: $served_key"
elif [ "$served_key" != "$(openpgp_key)" ]; then
  die "$SERVER/repo/key.asc is not the key in this script (was the server's key replaced?): download install.sh again"
fi

say "$os_name, $machine: the $family repository of $SERVER"
if [ "$check_only" = 1 ]; then
  say "checks passed (--check: nothing changed)"
  exit 0
fi

# --- changes: undone again if a later step fails -------------------------------------------

created=
replaced=
package_installed=0
done_ok=0
undo() {
  [ "$done_ok" = 1 ] && return 0
  say "failed: undoing what this run changed"
  if [ "$package_installed" = 1 ]; then
    case $family in
      apt) DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq patchloop >/dev/null 2>&1 || true ;;
      dnf) $dnf remove -y -q patchloop >/dev/null 2>&1 || true ;;
      apk) apk del -q patchloop >/dev/null 2>&1 || true ;;
    esac
  fi
  for f in $created; do rm -f "$f"; done
  for f in $replaced; do mv -f "$f.patchloop-install" "$f"; done
}
trap undo EXIT

# put_file PATH CONTENT-FUNCTION: the file with that content, mode 0644; kept when it has it.
put_file() {
  tmp="$1.patchloop-new"
  "$2" > "$tmp"
  chmod 0644 "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1" 2>/dev/null; then
    rm -f "$tmp"
    say "$1 is in place"
    return 0
  fi
  if [ -f "$1" ]; then
    cp -p "$1" "$1.patchloop-install"
    replaced="$replaced $1"
  else
    created="$created $1"
  fi
  mv -f "$tmp" "$1"
  say "wrote $1"
}

apt_source() {
  printf 'Types: deb\nURIs: %s/repo/apt\nSuites: stable\nComponents: main\nSigned-By: /etc/apt/keyrings/patchloop.asc\n' "$SERVER"
}
dnf_repo() {
  # The metadata is signed (repo_gpgcheck) and pins every package's SHA-256; the packages
  # themselves carry no signature (gpgcheck=0).
  printf '[patchloop]\nname=patchloop\nbaseurl=%s/repo/rpm\nenabled=1\nrepo_gpgcheck=1\ngpgcheck=0\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-patchloop\nmetadata_expire=6h\n' "$SERVER"
}
apk_repository() { cat /etc/apk/repositories; printf '%s/repo/apk\n' "$SERVER"; }

case $family in
  apt)
    mkdir -p /etc/apt/keyrings
    put_file /etc/apt/keyrings/patchloop.asc openpgp_key
    put_file /etc/apt/sources.list.d/patchloop.sources apt_source
    # Only this repository's index is refreshed: another broken repository cannot stop it.
    apt-get update -qq -o Dir::Etc::sourcelist=sources.list.d/patchloop.sources -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 \
      || die "apt-get update of $SERVER/repo/apt failed"
    [ "$installed_before" = 1 ] || package_installed=1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends patchloop >/dev/null || die "apt-get install patchloop failed" ;;
  dnf)
    mkdir -p /etc/pki/rpm-gpg
    put_file /etc/pki/rpm-gpg/RPM-GPG-KEY-patchloop openpgp_key
    put_file /etc/yum.repos.d/patchloop.repo dnf_repo
    [ "$installed_before" = 1 ] || package_installed=1
    $dnf install -y -q --refresh patchloop || die "$dnf install patchloop failed" ;;
  apk)
    put_file "/etc/apk/keys/$APK_KEY_NAME" apk_key
    if ! grep -Fqx "$SERVER/repo/apk" /etc/apk/repositories; then
      put_file /etc/apk/repositories apk_repository
    fi
    [ "$installed_before" = 1 ] || package_installed=1
    apk add -q --update-cache patchloop || die "apk add patchloop failed" ;;
esac
say "patchloop $(patchloop --version) installed"

if [ "$enrolled" = 1 ]; then
  say "already enrolled with $SERVER"
else
  printf '%s' "$token" | patchloop agent enroll --server "$SERVER" --token - || die "enrolment with $SERVER failed"
fi

case $scheduler in
  systemd)
    if [ -d /run/systemd/system ]; then
      systemctl enable --now patchloop-agent.timer patchloop-agent-flush.timer >/dev/null 2>&1 || die "systemctl enable --now patchloop-agent.timer failed"
    else
      # No running systemd (a container or chroot): enabled for the next boot.
      systemctl enable patchloop-agent.timer patchloop-agent-flush.timer >/dev/null 2>&1 || die "systemctl enable patchloop-agent.timer failed"
    fi
    say "enabled patchloop-agent.timer (daily run) and patchloop-agent-flush.timer (hourly spool flush)" ;;
  periodic)
    agent_daily() { printf '#!/bin/sh\nexec /usr/bin/patchloop agent run\n'; }
    agent_hourly() { printf '#!/bin/sh\nexec /usr/bin/patchloop agent flush\n'; }
    put_file /etc/periodic/daily/patchloop-agent agent_daily
    put_file /etc/periodic/hourly/patchloop-agent-flush agent_hourly
    chmod 0755 /etc/periodic/daily/patchloop-agent /etc/periodic/hourly/patchloop-agent-flush
    if command -v rc-update >/dev/null 2>&1; then rc-update add crond default >/dev/null 2>&1 || true; fi
    say "crond runs the agent daily (/etc/periodic/daily) and flushes its spool hourly" ;;
  none) say "--no-timer: schedule 'patchloop agent run' yourself" ;;
esac

done_ok=1
say "done: this host reports to $SERVER; updates of patchloop come from its repository with the other updates"
`;
}

/** The keys as functions that print them (pinned: what the host trusts is what this script holds). */
function keyFunctions(i: InstallScriptInput): string {
  return [
    `openpgp_key() {\n  cat <<'PATCHLOOP_OPENPGP_KEY'\n${heredoc('PATCHLOOP_OPENPGP_KEY', i.openpgpKey)}\n}`,
    `apk_key() {\n  cat <<'PATCHLOOP_APK_KEY'\n${heredoc('PATCHLOOP_APK_KEY', i.apkKeyPem)}\n}`,
  ].join('\n');
}
