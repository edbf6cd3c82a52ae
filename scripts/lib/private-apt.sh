# Sourced by the scripts that fetch Debian packages without touching the
# host's package state (aarch64-pg.sh, pg-versions.sh, rust-src-deb.sh): a
# private apt configuration with its own lists, an empty dpkg status and its
# own cache. The caller writes the sources; `die` is the caller's.

# private_apt_dirs DIR: the directory tree, an empty status and no sources yet.
private_apt_dirs() {
  local dir=$1
  mkdir -p "$dir"/{lists/partial,cache/archives/partial,dpkg,sources.list.d,apt.conf.d,preferences.d,log,debs}
  : > "$dir/dpkg/status"
  rm -f "$dir"/sources.list.d/* "$dir/sources.list"
  : > "$dir/sources.list"
}

# private_apt_conf DIR ARCH: DIR/apt.conf, for APT_CONFIG=DIR/apt.conf.
private_apt_conf() {
  local dir=$1 arch=$2
  # The host's apt.conf.d (proxies, validity checks) applies too; its hooks do
  # not: an update of these private lists must not refresh the host's caches.
  rm -f "$dir"/apt.conf.d/*
  if [[ -d /etc/apt/apt.conf.d ]]; then
    find /etc/apt/apt.conf.d -maxdepth 1 -type f -exec cp -t "$dir/apt.conf.d/" {} +
  fi
  if [[ -f /etc/apt/apt.conf ]]; then cp /etc/apt/apt.conf "$dir/apt.conf.d/zz-host-apt.conf"; fi
  cat > "$dir/main.conf" <<'CONF'
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Pre-Invoke;
#clear DPkg::Post-Invoke;
#clear DPkg::Pre-Install-Pkgs;
CONF
  cat > "$dir/apt.conf" <<CONF
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Dir::State "$dir";
Dir::State::Lists "$dir/lists";
Dir::State::status "$dir/dpkg/status";
Dir::State::extended_states "$dir/extended_states";
Dir::Cache "$dir/cache";
Dir::Cache::archives "$dir/cache/archives";
Dir::Etc::SourceList "$dir/sources.list";
Dir::Etc::SourceParts "$dir/sources.list.d";
Dir::Etc::Parts "$dir/apt.conf.d";
Dir::Etc::main "$dir/main.conf";
Dir::Etc::Preferences "$dir/preferences";
Dir::Etc::PreferencesParts "$dir/preferences.d";
Dir::Log "$dir/log";
CONF
}

# debian_mirror: "URI KEYRING" of the Debian archive in the machine's own
# sources (deb822 or one-line format); the repository names no mirror.
debian_mirror() {
  local f uri='' keyring=''
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian(\/|$)/) { print $i; exit } }' "$f")
    if [[ -n $uri ]]; then
      keyring=$(awk -v u="$uri" '/^$/ { inside = 0 } /^URIs:/ { inside = index($0, u) > 0 } inside && /^Signed-By:/ { print $2; exit }' "$f")
      break
    fi
  done
  if [[ -z $uri ]]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -f $f ]] || continue
      uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\// && $i ~ /\/debian(\/|$)/) { print $i; exit } }' "$f" | head -1)
      [[ -n $uri ]] && break
    done
  fi
  [[ -n $uri ]] || die "no Debian archive (a URI with a /debian path component) in the configured apt sources (/etc/apt/sources.list*)"
  echo "$uri ${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}"
}
