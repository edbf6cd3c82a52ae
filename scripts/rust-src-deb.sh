#!/usr/bin/env bash
# The std source of one exact Rust version from Debian's rust-src package,
# for compilers that came without one (rustup's toolchains without the
# rust-src component). Fetched with apt from the machine's configured Debian
# mirror into a private directory (own lists, status and cache: the host's
# package state is never touched) and unpacked, not installed.
#
#   scripts/rust-src-deb.sh VERSION     e.g. 1.95.0; prints the library/ directory
#
# PLRUST_RUST_SRC_ROOT (default /var/tmp/plrust-rust-src) holds apt/ (the
# private apt state) and <version>/ (the unpacked package, written whole).
# PLRUST_RUST_SRC_SUITES (default "trixie-backports trixie") are the Debian
# suites searched, on the mirror the machine already uses.
set -euo pipefail

BASE=${PLRUST_RUST_SRC_ROOT:-/var/tmp/plrust-rust-src}
SUITES=${PLRUST_RUST_SRC_SUITES:-trixie-backports trixie}
APT_DIR=$BASE/apt

source "$(dirname "${BASH_SOURCE[0]}")/lib/private-apt.sh"

say() { echo "rust-src-deb: $*" >&2; }
die() { say "$*"; exit 1; }

[[ $# -eq 1 && $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "usage: rust-src-deb.sh VERSION (e.g. 1.95.0)"
VERSION=$1
DEST=$BASE/$VERSION
LIBRARY=$DEST/usr/src/rustc-$VERSION/library

write_apt_config() {
  local uri keyring
  read -r uri keyring < <(debian_mirror)
  [[ -f $keyring ]] || die "$keyring not found: apt-get install debian-archive-keyring"
  private_apt_dirs "$APT_DIR"
  cat > "$APT_DIR/sources.list.d/rust-src.sources" <<SRC
Types: deb
URIs: $uri
Suites: $SUITES
Components: main
Signed-By: $keyring
SRC
  private_apt_conf "$APT_DIR" "$(dpkg --print-architecture)"
}

apt_private() { APT_CONFIG="$APT_DIR/apt.conf" "$@"; }

fetch() {
  command -v apt-get > /dev/null || die "apt-get not found: the std source is fetched with apt"
  write_apt_config
  say "apt-get update ($SUITES, private lists in $APT_DIR)"
  apt_private apt-get update -q -o APT::Update::Error-Mode=any >&2
  # Debian numbers it <upstream>+dfsg<n>-<revision>: exactly this upstream version, newest revision.
  local pkgver
  pkgver=$(apt_private apt-cache madison rust-src | awk -v v="$VERSION" '$3 ~ "^" v "[+~-]" || $3 == v { print $3 }' | sort -V | tail -1)
  [[ -n $pkgver ]] || die "Debian ($SUITES) has no rust-src of version $VERSION; available: $(apt_private apt-cache madison rust-src | awk '{print $3}' | tr '\n' ' ')"
  rm -f "$APT_DIR"/debs/*.deb
  if [[ $(id -u) -eq 0 ]] && id -u _apt > /dev/null 2>&1; then chown _apt "$APT_DIR/debs"; fi
  say "downloading rust-src $pkgver"
  (cd "$APT_DIR/debs" && apt_private apt-get download -q "rust-src=$pkgver" >&2)
  local deb=("$APT_DIR"/debs/rust-src_*.deb)
  rm -rf "$DEST.new"
  mkdir -p "$DEST.new"
  dpkg-deb -x "${deb[0]}" "$DEST.new"
  [[ -f $DEST.new/usr/src/rustc-$VERSION/library/std/Cargo.toml ]] || die "rust-src $pkgver has no usr/src/rustc-$VERSION/library"
  echo "$pkgver" > "$DEST.new/debian-version"
  rm -rf "$DEST"
  mv "$DEST.new" "$DEST"
  rm -f "${deb[@]}"
}

if [[ ! -f $DEST/debian-version ]]; then
  mkdir -p "$BASE"
  chmod 755 "$BASE"
  exec 9> "$BASE/.lock"
  flock 9
  [[ -f $DEST/debian-version ]] || fetch
fi
echo "$LIBRARY"
