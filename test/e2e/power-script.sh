#!/bin/sh
# Site power script for execute.test.ts (the `command` power driver): power-script.sh on|off|status HOST.
# Copied into the test's work dir, next to its per-host files:
#   HOST.power   on|off: the power state `status` prints
#   HOST.mode    normal | dead (ignores `on`: a host that never comes up) | slow-off (`off` hangs after
#                the host went off) | hang-before-off (`off` hangs before anything changes); a hanging
#                call writes "PID HOST" to hung.pid, so the test can kill the run mid-action
#   HOST.socket  the host's libvirtd control socket: `off` hides it (the daemon keeps running, libvirt
#                just cannot reach the host, as after a power cut), `on` puts it back
# Every call is appended to power-calls.log as "VERB HOST".
set -eu
dir=$(dirname "$0")
verb=$1
host=$2
echo "$verb $host" >>"$dir/power-calls.log"
mode=$(cat "$dir/$host.mode")
sock=$(cat "$dir/$host.socket")
hang() {
  echo "$$ $host" >"$dir/hung.pid.tmp"
  mv "$dir/hung.pid.tmp" "$dir/hung.pid"
  exec sleep 300
}
case $verb in
status) cat "$dir/$host.power" ;;
on)
  if [ "$mode" = dead ]; then exit 0; fi
  if [ -e "$sock.off" ]; then mv "$sock.off" "$sock"; fi
  echo on >"$dir/$host.power"
  ;;
off)
  if [ "$mode" = hang-before-off ]; then hang; fi
  if [ -e "$sock" ]; then mv "$sock" "$sock.off"; fi
  echo off >"$dir/$host.power"
  if [ "$mode" = slow-off ]; then hang; fi
  ;;
*)
  echo "unknown verb $verb" >&2
  exit 2
  ;;
esac
