#!/usr/bin/env bash
# Installs, from the machine's configured Debian sources, whatever plrust and
# its tests need and is not there yet. Idempotent: a second run installs
# nothing. Without root it prints the one command to run instead.
set -euo pipefail

packages=(
  postgresql-15               # the server the handler is tested against
  postgresql-server-dev-15    # PGXS and server headers to build the handler
  rustc-web cargo-web rust-web-src  # compiler + std source (with library/vendor) of one version
  gcc                         # native linker and the handler's C compiler
  make
  gcc-aarch64-linux-gnu       # cross linker for aarch64-postgres-linux-gnu
  libc6-dev-arm64-cross       # aarch64 glibc to link against
  qemu-user                   # runs aarch64 test programs on x86_64
  qemu-user-binfmt            # its binfmt_misc registration line, for the aarch64 PostgreSQL tests
  binutils                    # readelf, used by tests as an independent oracle for the ELF parser
  bubblewrap                  # the sandbox every rustc run on function source goes through (docs/TRUST.md)
  libseccomp-dev              # the isolation runner's system-call filter, linked in statically (docs/ISOLATION.md)
  util-linux                  # prlimit: the compiler's memory, CPU, file-size and process limits
  librust-serde-json-dev      # serde_json (with serde, itoa, ryu): the runtime crate's Json and JsonB (docs/TYPES.md)
  # Crates for the [dependencies] tests, installed as a directory registry in /usr/share/cargo/registry:
  librust-regex-dev           # a pure library (with aho-corasick, memchr, regex-syntax)
  librust-serde-dev librust-serde-derive-dev  # a proc-macro (serde_derive, with syn, quote, proc-macro2)
  librust-serde-json-dev      # serde_json, which shares serde with the derive
  librust-libc-dev            # a build script
)

# The std source of rustup's stable (a second supported Rust version, which
# the tests build a toolchain with): Debian's rust-src of exactly that
# version, fetched and unpacked privately, never installed.
rustup_stable_src() {
  local rustc=${RUSTUP_HOME:-$HOME/.rustup}/toolchains/stable-$(uname -m)-unknown-linux-gnu/bin/rustc
  [[ -x $rustc ]] || return 0
  local version
  version=$("$rustc" -vV | sed -n 's/^release: //p')
  echo "setup-system: std source of rustup's stable $version: $(bash "$(dirname "$0")/rust-src-deb.sh" "$version")"
}

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup-system: all ${#packages[@]} packages already installed"
  rustup_stable_src
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup-system: missing packages: ${missing[*]}"
  echo "run: sudo apt-get install -y ${missing[*]}"
  exit 1
fi

echo "setup-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# rustc-web and friends come from bookworm-security; a stale package list would not know them.
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
rustup_stable_src
