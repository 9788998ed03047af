#!/usr/bin/env bash
# Mixed load on the release server: 64 keep-alive clients for 60 s, 90 % reads (pages,
# feeds with conditional polls, the API), 10 % writes (form submissions and edits,
# moderation approvals, API creates, changes and cancellations), on the demo data (the
# ~1,500 events of --demo, made with `demo --seed 1` so that every run has the same) plus
# an admin and one organiser per client (signed up through the form) with a token. Fails on
# any 5xx, timeout (20 s), "locked" or "panicked" in the server's log, or an acknowledged
# write that is not stored. Prints a markdown table (p50/p90/p99/max and req/s for reads
# and writes, statuses) and writes it to bench/results/YYYY-MM-DD-mixed-BACKEND.txt.
#
#   bench/mixed-load.sh [--seconds 60] [--clients 64] [--backend sqlite|postgres]
#                       [--postgres URL] [--smoke] [--seed N] [--no-results]
#
#   --backend postgres  a scratch database cc_mixed_<pid> on the machine's server
#                       ($MIXED_PG_SERVER, default postgres://postgres@127.0.0.1:5432),
#                       dropped afterwards
#   --postgres URL      an existing, empty PostgreSQL database
#   --smoke             for CI: 10 s, 16 clients, SQLite only, prints only
#   CC_BIN=path         the binary to use (default target/release/creative-calendar, built
#                       with `cargo build --release --locked` if CC_BIN is unset and it is missing)
#   MIXED_KEEP_LOG=file keep a copy of the server's log there
#
# Everything runs under `nice -n 10` (MIXED_NICE to change it) on loopback; the server and
# the Python client share the machine's cores, and the summary says how much each used.
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

# 64 clients' sockets, the server's and its database files: far below any usual limit,
# but raise a low soft limit (to the hard one, at most 4096).
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
  hard=$(ulimit -Hn)
  if [ "$hard" = unlimited ] || [ "$hard" -ge 4096 ]; then ulimit -Sn 4096; else ulimit -Sn "$hard"; fi
fi

# The Python script cleans up itself (server stopped, temp dir removed, scratch database
# dropped) and its server dies with it; the trap only passes a Ctrl-C or TERM on.
py=""
trap '[ -n "$py" ] && kill -TERM "$py" 2>/dev/null; wait "$py" 2>/dev/null' INT TERM
nice -n "${MIXED_NICE:-10}" python3 bench/mixed_load.py --bin "$bin" "$@" &
py=$!
set +e
wait "$py"
rc=$?
# A second wait if the first was cut short by a signal.
kill -0 "$py" 2>/dev/null && { wait "$py"; rc=$?; }
exit $rc
