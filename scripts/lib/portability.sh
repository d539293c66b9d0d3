# Minimal Debian systems, one per suite, each with its own pcscd and vpcd, for the portability test
# (tests/portability.rs): the static binary must reach cards through every pcsc-lite that the
# machines of a ceremony run (Debian 12: 1.9.9, protocol 4:4; Debian 13 and Tails 7: 2.3.3, 4:5
# only; sid: 2.5.x, both).
#
# prepare_chroot SUITE DIR   a debootstrap'd minbase system with pcscd, vsmartcard-vpcd and libccid,
#                            and a user `amnesia` (uid 1000, as on Tails). Cached: a DIR made by the
#                            same recipe is reused; /proc, /sys are NOT mounted in it (the test
#                            mounts them only in a private mount namespace, where it wants them).
# start_chroot_pcscd SUITE DIR PORT RUNDIR
#                            starts DIR's own pcscd (foreground, background job) with two vpcd
#                            readers on 127.0.0.1 ports PORT and PORT+1; its PID goes to
#                            RUNDIR/pcscd-SUITE.pid (stopped by stop_pcscd RUNDIR, by PID).

SYMBOLON_PORTABILITY_SUITES=(bookworm trixie sid)
SYMBOLON_CHROOT_CACHE=${SYMBOLON_CHROOT_CACHE:-/var/cache/symbolon/chroots}
# Part of the cache key: a change here makes every chroot be built again.
SYMBOLON_CHROOT_RECIPE="minbase; pcscd vsmartcard-vpcd libccid (policy-rc.d); user amnesia 1000; v2"

# The Debian mirror this machine's apt uses (the first URIs: or deb line of its sources).
debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $2 !~ /^\[/ {print $2; exit} $1 == "deb" && $2 ~ /^\[/ {print $3; exit}' /etc/apt/sources.list 2>/dev/null)
  [ -n "$uri" ] || { echo "error: no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list" >&2; return 1; }
  echo "$uri"
}

# The portability test needs root: debootstrap, chroot, mount namespaces.
require_root() {
  [ "$(id -u)" -eq 0 ] || { echo "error: the portability test needs root (debootstrap, chroot, unshare --mount)" >&2; return 1; }
}

# Removes a chroot directory that a killed debootstrap may have left with file systems mounted
# in it (proc, sys, dev): those are unmounted first, and rm never leaves the chroot's own file system.
remove_tree() {
  local dir=$1 mnt
  [ -e "$dir" ] || return 0
  for mnt in $(findmnt -rn -o TARGET | grep -F "$dir/" | sort -r); do
    umount -l "$mnt" || { echo "error: cannot unmount $mnt" >&2; return 1; }
  done
  rm -rf --one-file-system "$dir"
}

prepare_chroot() {
  local suite=$1 dir=$2
  if [ "$(cat "$dir/.symbolon-recipe" 2>/dev/null)" = "$SYMBOLON_CHROOT_RECIPE" ]; then
    return 0
  fi
  require_root
  local mirror tmp="$dir.partial"
  mirror=$(debian_mirror)
  log "portability: building a minimal Debian $suite in $dir (debootstrap, once; cached)"
  remove_tree "$tmp"
  remove_tree "$dir"
  mkdir -p "$(dirname "$dir")"
  if ! debootstrap --variant=minbase "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
    echo "error: debootstrap of $suite failed; the end of its log ($tmp.log):" >&2
    tail -n 20 "$tmp.log" >&2
    return 1
  fi
  # apt, unlike debootstrap, resolves the virtual packages (dbus-system-bus, logind) that
  # Debian 13's pcscd pulls in through polkitd. policy-rc.d keeps the packages' scripts from
  # starting pcscd or dbus in the chroot (nothing would stop them).
  printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  if ! chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    pcscd vsmartcard-vpcd libccid >>"$tmp.log" 2>&1; then
    echo "error: installing pcscd in the $suite chroot failed; the end of its log ($tmp.log):" >&2
    tail -n 20 "$tmp.log" >&2
    return 1
  fi
  rm -f "$tmp/usr/sbin/policy-rc.d"
  chroot "$tmp" useradd --uid 1000 --create-home --shell /bin/sh amnesia
  chroot "$tmp" apt-get clean
  rm -rf "$tmp/var/lib/apt/lists"/*
  echo "$SYMBOLON_CHROOT_RECIPE" > "$tmp/.symbolon-recipe"
  mv "$tmp" "$dir"
  rm -f "$tmp.log"
}

# vpcd_conf FILE NAME PORT   a reader.conf.d entry: two vpcd readers named NAME on PORT, PORT+1,
# with the suite's own driver.
vpcd_conf() {
  cat > "$1" <<CONF
FRIENDLYNAME "$2"
DEVICENAME   /dev/null:$3
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    $3
CONF
}

start_chroot_pcscd() {
  local suite=$1 dir=$2 port=$3 rundir=$4
  require_root
  mkdir -p "$dir/etc/symbolon-readers" "$dir/run/pcscd"
  rm -f "$dir/run/pcscd/pcscd.comm" "$dir/run/pcscd/pcscd.pid"
  vpcd_conf "$dir/etc/symbolon-readers/vpcd" "Portability PCD" "$port"
  local polkit=()
  chroot "$dir" /usr/sbin/pcscd --help 2>&1 | grep -q -- --disable-polkit && polkit=(--disable-polkit)
  chroot "$dir" /usr/sbin/pcscd --foreground "${polkit[@]}" --config /etc/symbolon-readers \
    >"$rundir/pcscd-$suite.log" 2>&1 &
  echo $! > "$rundir/pcscd-$suite.pid"
  wait_for_pcscd "$suite" "$dir/run/pcscd/pcscd.comm" "$port" "$rundir/pcscd-$suite" || return 1
  log "portability: $suite's pcscd $(chroot "$dir" /usr/sbin/pcscd --version | head -n 1) started (PID $(cat "$rundir/pcscd-$suite.pid")), vpcd on ports $port-$((port + 1))"
}

# wait_for_pcscd WHAT SOCKET PORT PIDBASE   waits until the pcscd of PIDBASE.pid is alive, has its
# socket, and itself listens on vpcd's ports PORT and PORT+1 (a stale listener does not count).
wait_for_pcscd() {
  local what=$1 socket=$2 port=$3 pidbase=$4 pid n=0
  pid=$(cat "$pidbase.pid")
  until [ -S "$socket" ] && ss -ltnp 2>/dev/null | grep ":$((port + 1)) " | grep -q "pid=$pid,"; do
    sleep 0.1; n=$((n + 1))
    if [ $n -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
      echo "error: the $what pcscd did not start; its log:" >&2
      cat "$pidbase.log" >&2
      return 1
    fi
  done
}

# debootstrap builds the chroots; unshare, prlimit and chroot (util-linux, coreutils) run in them.
SYMBOLON_PORTABILITY_PACKAGES=(debootstrap util-linux)

# wait_all WHAT PID...   waits for each of the background jobs PID; fails if any failed.
wait_all() {
  local what=$1 failed=0 pid
  shift
  for pid in "$@"; do
    wait "$pid" || failed=1
  done
  [ $failed -eq 0 ] || { echo "error: $what failed" >&2; return 1; }
}

# start_chroot_polkit_pcscd SUITE DIR PORT RUNDIR
#   a second pcscd in DIR that asks polkit, as Debian 13's and Tails' do: the system bus
#   (dbus-daemon) and polkitd run in DIR too, in a private mount namespace with /proc mounted
#   (polkitd reads the client's /proc entry) and DIR/run/symbolon-polkit bound over /run/pcscd
#   (pcscd's socket and pid file, apart from the other pcscd's). Clients reach it with
#   PCSCLITE_CSOCK_NAME=/run/symbolon-polkit/pcscd.comm. Its two vpcd readers are on ports PORT,
#   PORT+1. PIDs in RUNDIR/pcscd-SUITE-polkit*.pid.
start_chroot_polkit_pcscd() {
  local suite=$1 dir=$2 port=$3 rundir=$4
  require_root
  local conf=/etc/symbolon-readers-polkit sock=/run/symbolon-polkit/pcscd.comm
  mkdir -p "$dir$conf" "$dir/run/symbolon-polkit" "$dir/run/dbus"
  rm -f "$dir/run/symbolon-polkit/"* "$dir/run/dbus/system_bus_socket"
  vpcd_conf "$dir$conf/vpcd" "Polkit PCD" "$port"
  local pids=$rundir/pcscd-$suite-polkit
  # shellcheck disable=SC2016
  unshare --mount -- sh -c '
    dir=$1 pids=$2 conf=$3 log=$4
    mount -t proc proc "$dir/proc" && mount --bind "$dir/run/symbolon-polkit" "$dir/run/pcscd" || exit 1
    chroot "$dir" dbus-daemon --system --nofork --nopidfile >"$log-dbus.log" 2>&1 &
    echo $! > "$pids-dbus.pid"
    n=0
    until [ -S "$dir/run/dbus/system_bus_socket" ]; do
      sleep 0.1; n=$((n + 1)); [ $n -lt 100 ] || { echo "the system bus did not start" >&2; exit 1; }
    done
    chroot "$dir" /usr/lib/polkit-1/polkitd --no-debug >"$log-polkitd.log" 2>&1 &
    echo $! > "$pids-polkitd.pid"
    chroot "$dir" /usr/sbin/pcscd --foreground --config "$conf" >"$log.log" 2>&1 &
    echo $! > "$pids.pid"
    wait
  ' sh "$dir" "$pids" "$conf" "$rundir/pcscd-$suite-polkit" &
  echo $! > "$pids-namespace.pid"
  # Its PID file is written by the namespace's shell once pcscd runs.
  local n=0
  until [ -s "$pids.pid" ]; do
    sleep 0.1; n=$((n + 1))
    if [ $n -gt 100 ] || ! kill -0 "$(cat "$pids-namespace.pid")" 2>/dev/null; then
      echo "error: the $suite pcscd with polkit did not start; its logs:" >&2
      cat "$rundir/pcscd-$suite-polkit"*.log >&2
      return 1
    fi
  done
  wait_for_pcscd "$suite (polkit)" "$dir$sock" "$port" "$pids" || return 1
  log "portability: $suite's pcscd with polkit started (PID $(cat "$pids.pid"); polkitd $(cat "$pids-polkitd.pid"), dbus $(cat "$pids-dbus.pid")), vpcd on ports $port-$((port + 1))"
}
