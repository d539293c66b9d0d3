# Shared by the scripts in scripts/: package installation and toolchain checks.
# Every system package the project needs is installed here, never by hand.

# Debian packages needed to build (nettle: Sequoia's crypto backend; libclang: bindgen for it).
# git: --version names the commit (build.rs), scripts/reproduce clones it.
SYMBOLON_BUILD_PACKAGES=(build-essential pkg-config file git nettle-dev libgmp-dev libclang-dev libpcsclite-dev)
# ...and to test (gnupg: the other side of OpenPGP interop; util-linux: script/setsid for terminals).
# zbar-tools: an independent QR decoder; poppler-utils: an independent PDF renderer; imagemagick:
# degrading rendered pages the way scans do.
SYMBOLON_TEST_PACKAGES=(gnupg util-linux libgfshare-bin zbar-tools poppler-utils imagemagick)

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages given that are not installed yet (apt-get update once, first).
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Makes sure cargo (from rustup) is on PATH, with the components the project uses.
ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 || { echo "error: cargo not found: install Rust with rustup first" >&2; exit 1; }
  if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
  fi
}

# Installs the cargo subcommand $1 at version $2 from crates.io (into ~/.cargo/bin) unless that
# version is there already.
ensure_cargo_tool() {
  local tool=$1 version=$2
  # Asked through cargo, which also finds subcommands in $CARGO_HOME/bin when it is not on PATH.
  if ! cargo "${tool#cargo-}" --version 2>/dev/null | grep -qw "$version"; then
    log "installing $tool $version from crates.io"
    cargo install --locked --quiet "$tool@$version" >&2
  fi
}
