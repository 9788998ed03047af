#!/usr/bin/env bash
# Slow and idle clients: serves a --demo database with the release binary, opens 500 idle
# keep-alive connections, 100 slow-loris request heads (a byte a second, never finished)
# and 20 slow POST bodies, and checks that meanwhile a visitor gets every page, feed and
# API answer as a 200 within 1 s; then that the server closes the slow-loris heads after
# its request-head timeout (10 s) and the idle connections after its keep-alive timeout
# (15 s), as src/config.rs (`ClientTimeouts::default()`) sets them. About 30 s.
#
#   .ci/check-slow-clients.sh [--idle 500] [--loris 100] [--post-loris 20]
#
#   CC_BIN=path               the binary (default target/release/creative-calendar, built
#                             with `cargo build --release --locked` if CC_BIN is unset and it is missing)
#   CC_EXPECT_HEAD_TIMEOUT=s  CC_EXPECT_KEEP_ALIVE=s   other expected timeouts
#   CC_KEEP_LOG=file          keep a copy of the server's log there
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;; esac

if [ -n "${CC_BIN:-}" ]; then
  bin=$CC_BIN
else
  bin=target/release/creative-calendar
  [ -x "$bin" ] || cargo build --release --locked
fi
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# 620 sockets in the Python process and as many in the server (which inherits the
# limit), plus its database files and listeners: each needs about 650 descriptors.
# Raise the soft limit to 4096 (or the hard limit, if lower); below 1024, give up.
need=4096
soft=$(ulimit -n)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
  hard=$(ulimit -Hn)
  if [ "$hard" = unlimited ] || [ "$hard" -ge "$need" ]; then
    ulimit -Sn "$need"
  else
    ulimit -Sn "$hard"
  fi
  [ "$(ulimit -n)" != "$soft" ] && echo "== open files limit raised from $soft to $(ulimit -n)"
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 1024 ]; then
  echo "the open files limit is $(ulimit -n) (hard $(ulimit -Hn)): too low for 620 connections" >&2
  exit 2
fi

# The Python script stops its server and removes its temp dir itself (the server also
# dies with it); the trap passes a Ctrl-C or TERM on. Bounded: it ends within ~35 s.
py=""
trap '[ -n "$py" ] && kill -TERM "$py" 2>/dev/null; wait "$py" 2>/dev/null' INT TERM
timeout -k 5 90 python3 .ci/slow_clients.py --bin "$bin" "$@" &
py=$!
set +e
wait "$py"
rc=$?
kill -0 "$py" 2>/dev/null && { wait "$py"; rc=$?; }
exit $rc
