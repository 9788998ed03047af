#!/usr/bin/env bash
# The crash test (issue 15): 200 clients write through the forms and the API, edit their
# events and sync sources while the release server is killed with kill -9 at three moments,
# on SQLite and on a private PostgreSQL cluster (which is also restarted under load).
# Every acknowledged write must survive with its content, the SQLite file must pass
# PRAGMA integrity_check, and the server must serve again at once. The driver is
# .ci/crash_test.py; by hand:
#   bash .ci/check-crash.sh [--sqlite-only | --postgres-only] [--seconds N] [--keep]
# The binary: $CC_BIN, else target/release/creative-calendar (built if missing).
# PostgreSQL needs /usr/lib/postgresql/15/bin (initdb, pg_ctl); the machine's own server
# on 5432 is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${CC_BIN:-}" ]; then
  bin=$CC_BIN
else
  bin=target/release/creative-calendar
  [ -x "$bin" ] || cargo build --release --locked
fi
[ -x "$bin" ] || { echo "crash test: FAIL (no binary at $bin)"; exit 1; }

work=$(mktemp -d /tmp/cc-crash-XXXXXX)
keep=0
for a in "$@"; do [ "$a" = --keep ] && keep=1; done
cleanup() {
  # The driver cleans up after itself; this is for when it could not (killed).
  if [ -f "$work/pids" ]; then
    # Only a server still running our copy of the binary (its path is under $work).
    while read -r pid; do
      if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$work/"; then kill -9 "$pid" 2>/dev/null || true; fi
    done <"$work/pids"
  fi
  if [ -f "$work/pgdir" ]; then
    pgdir=$(cat "$work/pgdir")
    if [ -f "$pgdir/data/postmaster.pid" ]; then
      runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$pgdir"
  fi
  if [ "$keep" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# In the background, so that a TERM or Ctrl-C reaches this trap at once: the driver is
# told to stop (it kills its servers and PostgreSQL), then cleanup() sweeps up.
CC_BIN=$bin nice -n 10 python3 .ci/crash_test.py --workdir "$work" "$@" &
py=$!
trap 'kill -TERM "$py" 2>/dev/null || true; wait "$py" 2>/dev/null || true; exit 143' INT TERM
rc=0
wait "$py" || rc=$?
exit "$rc"
