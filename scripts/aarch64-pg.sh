#!/usr/bin/env bash
# An arm64 PostgreSQL 15 on this x86_64 machine, for the aarch64 tests and by
# hand: Debian's own arm64 packages, fetched with apt from the machine's
# configured sources into a private directory (the host's package state is
# never touched), unpacked into a private root and run under qemu-aarch64
# through binfmt_misc.
#
#   scripts/aarch64-pg.sh [setup]        fetch + unpack (once), register binfmt; prints the root
#   scripts/aarch64-pg.sh binfmt         only register qemu-aarch64 with binfmt_misc
#   scripts/aarch64-pg.sh env            the environment the emulated programs need (eval-able)
#   scripts/aarch64-pg.sh initdb DIR [PORT]  a cluster in DIR (data in DIR/data, socket in DIR)
#   scripts/aarch64-pg.sh start DIR / stop DIR [fast|immediate]
#   scripts/aarch64-pg.sh psql DIR [psql args...]
#
# PLRUST_AARCH64_ROOT (default /var/tmp/plrust-aarch64) holds everything:
#   apt/      the private apt configuration, lists, status and package cache
#   root/     the unpacked packages (QEMU_LD_PREFIX); pg_config there is a wrapper
#   ready     written last: the packages the root was made from
set -euo pipefail

BASE=${PLRUST_AARCH64_ROOT:-/var/tmp/plrust-aarch64}
APT_DIR=$BASE/apt
ROOT=$BASE/root
READY=$BASE/ready
PG_BIN=$ROOT/usr/lib/postgresql/15/bin
BINFMT=/proc/sys/fs/binfmt_misc
BINFMT_LINE_FILE=/usr/lib/binfmt.d/qemu-aarch64.conf
SERVER_USER=postgres
# The server and its client programs, with their runtime closure.
INSTALL_PACKAGES=(postgresql-15 postgresql-client-15)
# Headers and PGXS only: their dependencies (clang, llvm, ...) are the host's business.
DOWNLOAD_PACKAGES=(postgresql-server-dev-15 libpq-dev)

source "$(dirname "${BASH_SOURCE[0]}")/lib/private-apt.sh"

say() { echo "aarch64-pg: $*" >&2; }
die() { say "$*"; exit 1; }

as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u "$SERVER_USER" -- "$@"; else "$@"; fi
}

write_apt_config() {
  private_apt_dirs "$APT_DIR"
  local found=0
  if [[ -f /etc/apt/sources.list ]]; then cp /etc/apt/sources.list "$APT_DIR/sources.list"; found=1; else : > "$APT_DIR/sources.list"; fi
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then cp /etc/apt/sources.list.d/debian.sources "$APT_DIR/sources.list.d/"; found=1; fi
  [[ $found -eq 1 ]] || die "no Debian sources configured (neither /etc/apt/sources.list nor /etc/apt/sources.list.d/debian.sources)"
  private_apt_conf "$APT_DIR" arm64
}

apt_private() { APT_CONFIG="$APT_DIR/apt.conf" "$@"; }

fetch_and_unpack() {
  command -v apt-get > /dev/null || die "apt-get not found: the arm64 packages are fetched with apt"
  command -v dpkg-deb > /dev/null || die "dpkg-deb not found"
  write_apt_config
  say "apt-get update (arm64, private lists in $APT_DIR)"
  apt_private apt-get update -q -o APT::Update::Error-Mode=any >&2
  say "downloading ${INSTALL_PACKAGES[*]} and their arm64 dependencies"
  # Exactly this closure goes into the root: no older versions left from an earlier fetch.
  rm -f "$APT_DIR"/cache/archives/*.deb
  apt_private apt-get install -y -q --download-only "${INSTALL_PACKAGES[@]}" >&2
  rm -f "$APT_DIR"/debs/*.deb
  # apt downloads as _apt when it can write there, as it does into its own cache.
  if [[ $(id -u) -eq 0 ]] && id -u _apt > /dev/null 2>&1; then chown _apt "$APT_DIR/debs"; fi
  (cd "$APT_DIR/debs" && apt_private apt-get download -q "${DOWNLOAD_PACKAGES[@]}" >&2)
  local debs=("$APT_DIR"/cache/archives/*.deb "$APT_DIR"/debs/*.deb)
  say "unpacking ${#debs[@]} packages into $ROOT"
  rm -rf "$ROOT.new"
  mkdir -p "$ROOT.new"
  for deb in "${debs[@]}"; do
    [[ $(dpkg-deb -f "$deb" Architecture) =~ ^(arm64|all)$ ]] || die "$deb is not an arm64 package"
    dpkg-deb -x "$deb" "$ROOT.new"
  done
  wrap_pg_config "$ROOT.new"
  rm -rf "$ROOT"
  mv "$ROOT.new" "$ROOT"
  chmod 755 "$BASE" "$ROOT"
  printf '%s\n' "${debs[@]##*/}" > "$READY"
}

# Debian's pg_config finds the installation relative to its own location, so
# inside the root it already reports the root's directories, but it is an
# arm64 program. This wrapper runs it under qemu-aarch64 with the root as the
# library prefix, so any host tool (PGXS's $(shell $(PG_CONFIG) ...), plrust
# install) can ask it without binfmt_misc or QEMU_LD_PREFIX.
wrap_pg_config() {
  local root=$1 bin=$1/usr/lib/postgresql/15/bin
  mv "$bin/pg_config" "$bin/pg_config.aarch64"
  cat > "$bin/pg_config" <<EOF
#!/bin/sh
# Written by scripts/aarch64-pg.sh: the installation's own pg_config, emulated.
exec env QEMU_LD_PREFIX='$ROOT' qemu-aarch64 '$PG_BIN/pg_config.aarch64' "\$@"
EOF
  chmod 755 "$bin/pg_config"
}

ensure_root() {
  if [[ -f $READY && -x $PG_BIN/postgres && -x $PG_BIN/pg_config.aarch64 ]]; then return; fi
  mkdir -p "$BASE"
  exec 9> "$BASE/.lock"
  flock 9
  # Another process may have made it while this one waited.
  if [[ -f $READY && -x $PG_BIN/postgres && -x $PG_BIN/pg_config.aarch64 ]]; then return; fi
  rm -f "$READY"
  local t0=$SECONDS
  fetch_and_unpack
  say "root ready in $((SECONDS - t0)) s: $(du -sm "$ROOT" | cut -f1) MB, $(wc -l < "$READY") packages"
}

# binfmt_misc makes the kernel hand every arm64 ELF to qemu-aarch64, which is
# what lets initdb and pg_ctl exec the server and the server fork its helpers.
ensure_binfmt() {
  command -v qemu-aarch64 > /dev/null || die "qemu-aarch64 not found: apt-get install qemu-user (or run scripts/setup-system.sh)"
  [[ -f $BINFMT_LINE_FILE ]] || die "$BINFMT_LINE_FILE not found: apt-get install qemu-user-binfmt (or run scripts/setup-system.sh)"
  if [[ ! -e $BINFMT/register ]]; then
    if ! mount -t binfmt_misc binfmt_misc "$BINFMT" 2> /dev/null; then
      die "binfmt_misc is not mounted at $BINFMT and this process may not mount it.
  As root on the host (or in a container started with --privileged): mount -t binfmt_misc binfmt_misc $BINFMT
  then run this script again."
    fi
  fi
  if [[ -e $BINFMT/qemu-aarch64 ]]; then
    grep -q '^enabled' "$BINFMT/qemu-aarch64" || echo 1 > "$BINFMT/qemu-aarch64"
    return
  fi
  # No systemd here to do it: write the package's own registration line.
  if ! { grep -v -e '^#' -e '^$' "$BINFMT_LINE_FILE" > "$BINFMT/register"; } 2> /dev/null; then
    die "cannot register qemu-aarch64 with binfmt_misc ($BINFMT/register is not writable by $(id -un)).
  As root on the host: grep -v -e '^#' -e '^\$' $BINFMT_LINE_FILE > $BINFMT/register
  (binfmt_misc registrations are per kernel, or per user namespace on Linux >= 6.7; an unprivileged container cannot add one)."
  fi
  [[ -e $BINFMT/qemu-aarch64 ]] || die "qemu-aarch64 was written to $BINFMT/register but did not appear"
}

print_env() {
  printf 'export QEMU_LD_PREFIX=%q\n' "$ROOT"
  printf 'export PLRUST_AARCH64_PG_BIN=%q\n' "$PG_BIN"
}

cluster_initdb() {
  local dir=$1 port=${2:-$((20000 + RANDOM % 40000))}
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown "$SERVER_USER:" "$dir"
  QEMU_LD_PREFIX=$ROOT as_server_user "$PG_BIN/initdb" -D "$dir/data" -A trust -E UTF8 --locale=C.UTF-8 --no-sync > "$dir/initdb.log"
  cat >> "$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
EOF
}

cluster_port() { sed -n "s/^port = \([0-9]*\)$/\1/p" "$1/data/postgresql.conf" | tail -1; }

cmd=${1:-setup}
[[ $# -gt 0 ]] && shift
case "$cmd" in
  setup) ensure_root; ensure_binfmt; echo "$ROOT" ;;
  binfmt) ensure_binfmt ;;
  env) print_env ;;
  initdb) [[ $# -ge 1 ]] || die "usage: initdb DIR [PORT]"; ensure_root; ensure_binfmt; cluster_initdb "$@" ;;
  start) [[ $# -eq 1 ]] || die "usage: start DIR"; QEMU_LD_PREFIX=$ROOT as_server_user "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 120 start ;;
  stop) [[ $# -ge 1 ]] || die "usage: stop DIR [fast|immediate]"; QEMU_LD_PREFIX=$ROOT as_server_user "$PG_BIN/pg_ctl" -D "$1/data" -m "${2:-fast}" -w -t 120 stop ;;
  psql)
    [[ $# -ge 1 ]] || die "usage: psql DIR [args]"
    dir=$1; shift
    QEMU_LD_PREFIX=$ROOT as_server_user "$PG_BIN/psql" -h "$dir" -p "$(cluster_port "$dir")" -d postgres "$@"
    ;;
  *) die "unknown command $cmd (setup, binfmt, env, initdb, start, stop, psql)" ;;
esac
