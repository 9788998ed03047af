#!/usr/bin/env bash
# Load benchmark of the release binary with wrk, on loopback only.
#   .ci/bench-load.sh [EVENTS] [SECONDS]
# Builds the release binary, makes (once) a database with EVENTS demo events in
# target/bench/, serves it on 127.0.0.1:18080 and runs wrk against the main pages.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1500}
seconds=${2:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked
bin=target/release/creative-calendar
mkdir -p target/bench
db=target/bench/demo-$events.db
if [ ! -f "$db" ]; then
  /usr/bin/time -f "demo --events $events: %e s, max RSS %M KiB" \
    "$bin" demo --events "$events" --seed 1 --database "$db"
fi
"$bin" serve --database "$db" --bind 127.0.0.1:18080 --workers 2 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.2; done
slug=$(curl -s "http://127.0.0.1:18080/cities?field=literature" | grep -o 'href="/cities/[a-z-]*"' | head -1 | sed 's/.*cities\/\(.*\)"/\1/')
printf '%-48s %10s %9s %9s %9s\n' "path ($events events, 2 connections)" "req/s" "p50" "p90" "p99"
for path in / "/events" "/events?field=music&kind=performance" "/events?q=jazz" "/events?page=50" \
            "/cities" "/cities/$slug" "/fields/music" "/events/1"; do
  out=$(wrk -t1 -c2 -d"${seconds}s" --latency "http://127.0.0.1:18080$path")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p90=$(awk '$1=="90%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%-48s %10s %9s %9s %9s\n' "$path" "$rps" "$p50" "$p90" "$p99"
done
