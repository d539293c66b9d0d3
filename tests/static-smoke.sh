#!/usr/bin/env bash
# Runs the static binary (SYMBOLON_BIN) through a split and combine, with nothing on PATH to help.
set -euo pipefail
bin=${SYMBOLON_BIN:?set SYMBOLON_BIN to the binary to test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
head -c 64 /dev/urandom > secret.bin
"$bin" split --secret-file secret.bin -n 5 -t 3 --scheme vault --plaintext -o set >/dev/null
"$bin" combine set/02-share.txt set/04-share.txt set/05-share.txt --out back.bin 2>/dev/null
cmp secret.bin back.bin
if "$bin" combine set/02-share.txt set/04-share.txt --out never.bin 2>/dev/null; then
  echo "static smoke: combining 2 of a 3-of-5 set succeeded" >&2; exit 1
fi
[ ! -e never.bin ]
echo "static smoke: 1 passed, 0 failed"
