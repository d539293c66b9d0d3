# A static PC/SC client library for the static binary.
#
# Debian ships libpcsclite only as a shared library. This builds libpcsclite.a from Debian 12's
# own pcsc-lite source package (1.9.9, fetched with apt-get source, its signature and hashes
# checked by apt) — only the client files — with the system gcc, for the glibc +crt-static build.
#
# One patch is applied (pcsclite-negotiate.patch beside this file): the client negotiates pcscd's
# internal protocol. It offers 4:4 (its own), and when the daemon refuses that and answers a later
# 4.x protocol, it opens the session again and offers 4:5, which adds only a command this client
# never sends.
# So one binary works with every pcscd: 1.9.x-2.2.x (4:4 only), 2.3.0-2.4.0 (4:5 only) and 2.4.1
# and later (both). docs/DESIGN.md ("PC/SC protocol") explains the choice and its risks;
# tests/portability.rs runs the binary against Debian 12's, 13's and sid's pcscd.
#
# build_static_pcsclite DIR   leaves DIR/libpcsclite.a and prints nothing else on stdout.

PCSCLITE_VERSION=1.9.9
# Changes whenever the patch does, so that a cached library is rebuilt.
PCSCLITE_BUILD_ID="$PCSCLITE_VERSION+negotiate-$(sha256sum "$(dirname "${BASH_SOURCE[0]}")/pcsclite-negotiate.patch" | cut -c1-12)+prefix-map"

build_static_pcsclite() {
  local out=$1
  if [ -f "$out/libpcsclite.a" ] && [ "$(cat "$out/version" 2>/dev/null)" = "$PCSCLITE_BUILD_ID" ]; then
    return 0
  fi
  mkdir -p "$out/src"
  local orig="$out/src/pcsc-lite_$PCSCLITE_VERSION.orig.tar.bz2"
  if [ ! -f "$orig" ]; then
    if ! apt-cache showsrc pcsc-lite 2>/dev/null | grep -q "^Version: $PCSCLITE_VERSION"; then
      # apt needs a deb-src twin of the Debian entry to fetch source packages.
      log "adding a deb-src entry for Debian's sources (/etc/apt/sources.list.d/symbolon-deb-src.sources)"
      sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
        | as_root tee /etc/apt/sources.list.d/symbolon-deb-src.sources >/dev/null
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    fi
    log "fetching Debian's pcsc-lite $PCSCLITE_VERSION source package"
    (cd "$out/src" && apt-get source --download-only -qq "pcsc-lite=$PCSCLITE_VERSION-2" >/dev/null 2>&1) \
      || (cd "$out/src" && apt-get source --download-only -qq pcsc-lite >/dev/null)
  fi
  rm -rf "$out/src/pcsc-lite-$PCSCLITE_VERSION"
  tar -xjf "$orig" -C "$out/src"
  patch -s -p1 -d "$out/src/pcsc-lite-$PCSCLITE_VERSION" < "$(dirname "${BASH_SOURCE[0]}")/pcsclite-negotiate.patch"
  local src="$out/src/pcsc-lite-$PCSCLITE_VERSION/src"
  local gen="$out/include"
  mkdir -p "$gen/PCSC"
  sed "s/@VERSION@/$PCSCLITE_VERSION/" "$src/PCSC/pcsclite.h.in" > "$gen/PCSC/pcsclite.h"
  cp "$gen/PCSC/pcsclite.h" "$gen/pcsclite.h"
  sed -e "s/@VERSION@/$PCSCLITE_VERSION/" -e 's|@PCSCLITE_CONFIG_DIR@|/etc/reader.conf.d|' \
    "$src/pcscd.h.in" > "$gen/pcscd.h"
  cat > "$gen/config.h" <<'CONFIG'
/* Hand-written config.h for the pcsc-lite client library only (Linux, glibc). */
#define USE_IPCDIR "/run/pcscd"
#define HAVE_NANOSLEEP 1
#define HAVE_GETRANDOM 1
#define HAVE_PTHREAD 1
#define NO_LOG 1
#define SIMCLIST_NO_DUMPRESTORE 1
#define VERSION "1.9.9"
#define PACKAGE "pcsc-lite"
CONFIG
  local objs=() f
  for f in debug error winscard_clnt simclist sys_unix utils winscard_msg; do
    gcc -c -O2 -fPIC -ffile-prefix-map="$out"=/build/pcsclite -D_GNU_SOURCE -DLIBPCSCLITE -DSIMCLIST_NO_DUMPRESTORE -include "$gen/config.h" \
      -I "$gen" -I "$gen/PCSC" -I "$src" -I "$src/PCSC" "$src/$f.c" -o "$out/$f.o"
    objs+=("$out/$f.o")
  done
  rm -f "$out/libpcsclite.a"
  # D: no timestamps, user or group ids in the archive.
  ar rcsD "$out/libpcsclite.a" "${objs[@]}"
  echo "$PCSCLITE_BUILD_ID" > "$out/version"
  log "built $out/libpcsclite.a (pcsc-lite $PCSCLITE_VERSION client, negotiating PC/SC protocol 4:4 or 4:5)"
}
