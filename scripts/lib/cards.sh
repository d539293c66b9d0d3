# pcscd with virtual card readers, and the virtual OpenPGP card, for the tests and the demo.
#
# start_pcscd DIR   starts pcscd in the foreground of a background job, with its own reader
#                   configuration in DIR: SYMBOLON_VPCD_COUNT vpcd readers on 127.0.0.1 ports
#                   SYMBOLON_VPCD_BASE.. (one config entry = two readers on consecutive ports; each
#                   entry has its OWN copy of the driver, which keeps its slots in globals). Its PID
#                   goes to DIR/pcscd.pid; it is stopped by that PID (stop_pcscd DIR).
# build_vcard       builds the virtual card (tests/vcard, LGPL-3.0, never linked into symbolon) and
#                   exports SYMBOLON_VCARD.
# insert_card PORT SERIAL DIR   starts one virtual card on vpcd port PORT; PID in DIR/card-PORT.pid.
# restart_pcscd DIR stops the pcscd of DIR by its PID and starts it again (a test's daemon restart).

# Debian packages: the daemon, vsmartcard's reader driver, gpg's smartcard daemon (interop), the
# PC/SC client library and headers (pcsc-sys links it in the dynamic builds).
SYMBOLON_CARD_PACKAGES=(pcscd vsmartcard-vpcd scdaemon libccid)

export SYMBOLON_VPCD_BASE=36100
export SYMBOLON_VPCD_COUNT=8

start_pcscd() {
  local dir=$1
  if pgrep -x pcscd >/dev/null 2>&1; then
    echo "error: a pcscd is already running (PID $(pgrep -x pcscd | tr '\n' ' ')): the tests and the demo start their own," >&2
    echo "       with virtual readers. Stop it first (systemctl stop pcscd.socket pcscd, or kill it)." >&2
    return 1
  fi
  mkdir -p "$dir/reader.conf.d" "$dir/drivers"
  local driver=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
  [ -e "$driver" ] || { echo "error: $driver is missing (package vsmartcard-vpcd)" >&2; return 1; }
  local i port
  for ((i = 0; i < SYMBOLON_VPCD_COUNT / 2; i++)); do
    port=$((SYMBOLON_VPCD_BASE + 2 * i))
    cp "$(readlink -f "$driver")" "$dir/drivers/libifdvpcd-$i.so"
    cat > "$dir/reader.conf.d/vpcd-$i" <<CONF
FRIENDLYNAME "Symbolon Virtual PCD $i"
DEVICENAME   /dev/null:$port
LIBPATH      $dir/drivers/libifdvpcd-$i.so
CHANNELID    $port
CONF
  done
  pcscd ${PCSCD_DEBUG:-} --foreground --config "$dir/reader.conf.d" >"$dir/pcscd.log" 2>&1 &
  echo $! > "$dir/pcscd.pid"
  local waited=0
  until [ -S /run/pcscd/pcscd.comm ] && ss -ltn 2>/dev/null | grep -q ":$((SYMBOLON_VPCD_BASE + SYMBOLON_VPCD_COUNT - 1)) "; do
    sleep 0.1
    waited=$((waited + 1))
    if [ $waited -gt 100 ] || ! kill -0 "$(cat "$dir/pcscd.pid")" 2>/dev/null; then
      echo "error: pcscd did not start; its log:" >&2
      cat "$dir/pcscd.log" >&2
      return 1
    fi
  done
  log "pcscd started (PID $(cat "$dir/pcscd.pid")) with $SYMBOLON_VPCD_COUNT virtual readers on ports $SYMBOLON_VPCD_BASE-$((SYMBOLON_VPCD_BASE + SYMBOLON_VPCD_COUNT - 1))"
  # For the test that restarts pcscd mid-operation (restart_pcscd).
  export SYMBOLON_PCSC_DIR="$dir"
}

# Stops the pcscd of DIR (by its PID; the virtual cards in it go with it) and starts it again,
# as a daemon restart in the middle of a ceremony does.
restart_pcscd() {
  local dir=$1 pid n=0
  pid=$(cat "$dir/pcscd.pid")
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  rm -f "$dir/pcscd.pid"
  start_pcscd "$dir"
}

stop_pcscd() {
  local dir=$1 pidfile pid pids=() n
  for pidfile in "$dir"/card-*.pid "$dir"/pcscd-*.pid "$dir/pcscd.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$pidfile"
  done
  # Gone before this returns (at most 5 s each), so that the next run finds no pcscd.
  for pid in "${pids[@]}"; do
    n=0
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  done
}

build_vcard() {
  log "building the virtual OpenPGP card (tests/vcard: opcard on trussed, release)"
  cargo build --locked --release -p symbolon-vcard
  SYMBOLON_VCARD="$PWD/target/release/symbolon-vcard"
  export SYMBOLON_VCARD
}

insert_card() {
  local port=$1 serial=$2 dir=$3
  "$SYMBOLON_VCARD" --port "$port" --serial "$serial" >"$dir/card-$port.log" 2>&1 &
  echo $! > "$dir/card-$port.pid"
}
