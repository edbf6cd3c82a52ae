#!/usr/bin/env bash
# Other PostgreSQL majors on this machine, for the matrix tests and by hand:
# Debian's own packages of each major, fetched with apt from the Debian
# mirror of the machine's configured sources into a private directory (the
# host's package state is never touched) and unpacked into a private root.
#
#   scripts/pg-versions.sh setup MAJOR     fetch + unpack (once); prints the bin directory
#   scripts/pg-versions.sh list            the majors this script provides, one a line
#   scripts/pg-versions.sh suite MAJOR     the Debian suite that MAJOR comes from
#
# Every program in the root's bin directory is replaced by a small wrapper
# that runs it on this host's file system through a dynamic loader given
# explicitly, so initdb, pg_ctl, postgres, pg_config and the clients work
# from any tool (plrust install/doctor/sandbox, PGXS, the tests) with no
# environment, chroot or LD_LIBRARY_PATH:
#   - majors whose Debian suite has a newer glibc than the host (17, 18, 19)
#     run with the root's own loader and libraries (`ld-linux --library-path`),
#     so the server runs on the glibc it was built for;
#   - older majors (13) run with the host's glibc and loader, plus the few
#     libraries of their suite the host lacks (libssl1.1, libicu67, ...).
# A loader given on the command line applies to that process only: what the
# server executes (the plrust compiler) starts with the host's own. (A chroot
# into the root would run the server as well, but hide from it the host's
# node, rustc, linker and sandbox that CREATE FUNCTION runs.)
# The root's PGXS is adjusted for the host's gcc: no LLVM bitcode, no warning
# flags the host's gcc does not know, and the root's glibc headers first
# (the server's pg_config.h describes that glibc, e.g. its strlcpy).
#
# PLRUST_PG_VERSIONS_ROOT (default /var/tmp/plrust-pg-versions) holds, per major:
#   MAJOR/apt/    the private apt configuration, lists, status and package cache
#   MAJOR/root/   the unpacked packages
#   MAJOR/libs/   (host-glibc majors) links to the suite's libraries the host lacks
#   MAJOR/ready   written last: the packages the root was made from
set -euo pipefail

BASE=${PLRUST_PG_VERSIONS_ROOT:-/var/tmp/plrust-pg-versions}
MAJORS=(13 17 18 19)
ARCH=amd64
MULTIARCH=x86_64-linux-gnu
HOST_LOADER=/lib64/ld-linux-x86-64.so.2

source "$(dirname "${BASH_SOURCE[0]}")/lib/private-apt.sh"

say() { echo "pg-versions: $*" >&2; }
die() { say "$*"; exit 1; }

# The Debian suite of each major and whether it runs on its own glibc.
suite_of() {
  case "$1" in
    13) echo bullseye ;;
    17) echo trixie ;;
    18) echo forky ;;
    19) echo "sid experimental" ;;
    *) die "PostgreSQL $1 is not provided here (provided: ${MAJORS[*]}; 15 is the host's own)" ;;
  esac
}
own_glibc() { [[ $1 -ge 17 ]]; }

# The Debian archive of the machine's configured sources (deb822 or one-line
# format): the first URI with a /debian path component (a mirror, or a
# snapshot.debian.org archive/debian/<date>), and its keyring.
write_apt_config() {
  local apt_dir=$1 suites=$2 major=$3 uri keyring
  read -r uri keyring < <(debian_mirror)
  private_apt_dirs "$apt_dir"
  cat > "$apt_dir/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $uri
Suites: $suites
Components: main
Signed-By: $keyring
EOF
  private_apt_conf "$apt_dir" "$ARCH"
  # A major only in experimental: its packages and the libpq its client
  # needs come from there, everything else from unstable.
  : > "$apt_dir/preferences"
  if [[ $suites == *experimental* ]]; then
    printf 'Package: postgresql-%s postgresql-client-%s postgresql-server-dev-%s libpq5 libpq-dev\nPin: release a=experimental\nPin-Priority: 500\n' \
      "$major" "$major" "$major" > "$apt_dir/preferences"
  fi
}

fetch_and_unpack() {
  local major=$1 dir=$BASE/$1 suites apt_dir root
  suites=$(suite_of "$major")
  apt_dir=$dir/apt
  root=$dir/root
  command -v apt-get > /dev/null || die "apt-get not found: the packages are fetched with apt"
  command -v dpkg-deb > /dev/null || die "dpkg-deb not found"
  write_apt_config "$apt_dir" "$suites" "$major"
  local apt=(env APT_CONFIG="$apt_dir/apt.conf" apt-get -q)
  say "PostgreSQL $major: apt-get update ($suites, private lists in $apt_dir)"
  "${apt[@]}" update -o APT::Update::Error-Mode=any >&2
  # The server and its clients with their runtime closure.
  local install=("postgresql-$major" "postgresql-client-$major")
  # Headers only: PGXS's own dependencies (clang, llvm) are the host's business.
  local download=("postgresql-server-dev-$major")
  if own_glibc "$major"; then download+=(libc6-dev); fi
  say "PostgreSQL $major: downloading ${install[*]} and their dependencies"
  rm -f "$apt_dir"/cache/archives/*.deb "$apt_dir"/debs/*.deb
  "${apt[@]}" install -y --download-only "${install[@]}" >&2
  if [[ $(id -u) -eq 0 ]] && id -u _apt > /dev/null 2>&1; then chown _apt "$apt_dir/debs"; fi
  local names=() d
  for d in "${download[@]}"; do
    # The version that matches the server (and glibc) just fetched.
    names+=("$d=$("${apt[@]}" -s install "${install[@]}" "$d" 2> /dev/null | sed -n "s/^Inst $d (\([^ ]*\) .*/\1/p" | head -1)")
  done
  (cd "$apt_dir/debs" && "${apt[@]}" download "${names[@]}" >&2)
  local debs=("$apt_dir"/cache/archives/*.deb "$apt_dir"/debs/*.deb)
  say "PostgreSQL $major: unpacking ${#debs[@]} packages into $root"
  rm -rf "$root.new" "$dir/libs"
  mkdir -p "$root.new"
  for d in "${debs[@]}"; do dpkg-deb -x "$d" "$root.new"; done
  rm -rf "$root"
  mv "$root.new" "$root"
  [[ -x $root/usr/lib/postgresql/$major/bin/postgres ]] || die "PostgreSQL $major: no postgres in the unpacked packages"
  if ! own_glibc "$major"; then link_missing_libs "$major"; fi
  wrap_programs "$major"
  adjust_pgxs "$major"
  chmod 755 "$BASE" "$dir" "$root"
  printf '%s\n' "${debs[@]##*/}" > "$dir/ready"
}

is_elf() { [[ $(head -c 4 "$1" 2> /dev/null | od -An -c | tr -d ' ') == '177ELF' ]]; }

# For a major that runs on the host's glibc: links to the suite's libraries
# that the host does not have, found by asking the host's loader.
link_missing_libs() {
  local major=$1 root=$BASE/$1/root libs=$BASE/$1/libs
  mkdir -p "$libs"
  local progress=1 f lib found
  while [[ $progress -eq 1 ]]; do
    progress=0
    while IFS= read -r lib; do
      [[ -e $libs/$lib ]] && continue
      found=$(find "$root/lib" "$root/usr/lib" -name "$lib" \( -type f -o -type l \) 2> /dev/null | head -1)
      [[ -n $found ]] || die "PostgreSQL $major needs $lib, which neither the host nor $(suite_of "$major") provides"
      ln -s "$(readlink -f "$found")" "$libs/$lib"
      progress=1
    done < <(
      for f in "$root/usr/lib/postgresql/$major/bin"/* "$root/usr/lib/postgresql/$major/lib"/*.so; do
        is_elf "$f" && LD_LIBRARY_PATH=$libs ldd "$f" 2> /dev/null | awk '/=> not found/ { print $1 }'
      done | sort -u
    )
  done
}

wrap_programs() {
  local major=$1 root=$BASE/$1/root bin loader libpath prog
  bin=$root/usr/lib/postgresql/$major/bin
  if own_glibc "$major"; then
    loader=$root/usr/lib/$MULTIARCH/ld-linux-x86-64.so.2
    [[ -e $loader ]] || loader=$root/lib/$MULTIARCH/ld-linux-x86-64.so.2
    [[ -e $loader ]] || die "PostgreSQL $major: no dynamic loader in the unpacked packages"
    libpath=$root/usr/lib/$MULTIARCH:$root/lib/$MULTIARCH
  else
    loader=$HOST_LOADER
    libpath=$BASE/$major/libs
  fi
  mkdir -p "$bin/.real"
  for prog in "$bin"/*; do
    [[ -f $prog ]] && is_elf "$prog" || continue
    mv "$prog" "$bin/.real/"
    # --argv0 keeps the wrapper's path in argv[0]: PostgreSQL finds its
    # share and lib directories, and its sibling programs, from there.
    cat > "$prog" <<EOF
#!/bin/sh
# Written by scripts/pg-versions.sh: PostgreSQL $major's own program, on the glibc it needs.
exec '$loader' --library-path '$libpath' --argv0 '$prog' '$bin/.real/${prog##*/}' "\$@"
EOF
    chmod 755 "$prog"
  done
  wrap_pg_config "$major" "$loader" "$libpath"
}

# Some majors' pg_config (bullseye's 13) print the directories they were
# configured with, not the ones they were unpacked into: those without the
# root's prefix get it, whether asked for all at once or one by one.
wrap_pg_config() {
  local major=$1 loader=$2 libpath=$3 root=$BASE/$1/root bin
  bin=$root/usr/lib/postgresql/$major/bin
  cat > "$bin/pg_config" <<EOF
#!/bin/sh
# Written by scripts/pg-versions.sh: PostgreSQL $major's own pg_config, on the glibc it needs, its directories inside '$root'.
out=\$('$loader' --library-path '$libpath' --argv0 '$bin/pg_config' '$bin/.real/pg_config' "\$@") || exit \$?
printf '%s\\n' "\$out" | awk -v root='$root' -v args="\$*" '
  BEGIN { n = split(args, a, " ") }
  function fix(v) { return (v ~ /^\// && index(v, root "/") != 1) ? root v : v }
  n == 0 && /^[A-Z-]+ = \// && \$1 !~ /^(CONFIGURE|CC|CPPFLAGS|CFLAGS|CFLAGS_SL|LDFLAGS|LDFLAGS_EX|LDFLAGS_SL|LIBS|VERSION)\$/ { print \$1 " = " fix(\$3); next }
  n > 0 && a[NR] ~ /dir|^--pgxs\$/ { print fix(\$0); next }
  { print }'
EOF
}

# PGXS of the root, for the host's gcc building against this server.
adjust_pgxs() {
  local major=$1 root=$BASE/$1/root mk flags flag drop=()
  mk=$root/usr/lib/postgresql/$major/lib/pgxs/src/Makefile.global
  [[ -f $mk ]] || die "PostgreSQL $major: no PGXS in the unpacked packages ($mk)"
  flags=$(sed -n 's/^\(CFLAGS\|CFLAGS_SL\|CPPFLAGS\|LDFLAGS\|CFLAGS_UNROLL_LOOPS\|CFLAGS_VECTORIZE\|PERMIT_DECLARATION_AFTER_STATEMENT\|PERMIT_MISSING_VARIABLE_DECLARATIONS\) = //p' "$mk")
  for flag in $flags; do
    [[ $flag == -W* || $flag == -f* || $flag == -m* ]] || continue
    # gcc accepts any -Wno-<unknown>; an unknown -W<flag> or -f<flag> stops the build.
    [[ $flag == -Wno-* ]] && continue
    if ! echo 'int x;' | gcc -Werror -Wall "$flag" -x c -c -o /dev/null - 2> /dev/null; then drop+=("$flag"); fi
  done
  for flag in "${drop[@]}"; do
    say "PostgreSQL $major: dropping $flag from PGXS (the host's gcc does not know it)"
    sed -i "s/ $flag\b//g; s/= $flag\b/=/g" "$mk"
  done
  sed -i 's/^with_llvm\s*=.*/with_llvm = no/' "$mk"
  sed -i 's/^CC = .*/CC = gcc/' "$mk"
  if own_glibc "$major"; then
    sed -i "s|^CPPFLAGS = |CPPFLAGS = -isystem $root/usr/include/$MULTIARCH -isystem $root/usr/include |" "$mk"
  fi
}

ensure_root() {
  local major=$1 dir=$BASE/$1
  suite_of "$major" > /dev/null
  if [[ -f $dir/ready && -x $dir/root/usr/lib/postgresql/$major/bin/postgres ]]; then return; fi
  mkdir -p "$dir"
  exec 9> "$dir/.lock"
  flock 9
  if [[ -f $dir/ready && -x $dir/root/usr/lib/postgresql/$major/bin/postgres ]]; then return; fi
  rm -f "$dir/ready"
  local t0=$SECONDS
  fetch_and_unpack "$major"
  say "PostgreSQL $major ready in $((SECONDS - t0)) s: $(du -sm "$dir/root" | cut -f1) MB, $(wc -l < "$dir/ready") packages"
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case "$cmd" in
  setup)
    [[ $# -eq 1 ]] || die "usage: setup MAJOR"
    ensure_root "$1"
    echo "$BASE/$1/root/usr/lib/postgresql/$1/bin"
    ;;
  list) printf '%s\n' "${MAJORS[@]}" ;;
  suite) [[ $# -eq 1 ]] || die "usage: suite MAJOR"; suite_of "$1" ;;
  *) die "usage: scripts/pg-versions.sh setup MAJOR | list | suite MAJOR" ;;
esac
