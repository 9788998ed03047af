#!/usr/bin/env bash
# Load benchmark of the release binary with wrk, on loopback only.
#   .ci/bench-load.sh [EVENTS] [SECONDS]
#   BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/test .ci/bench-load.sh [EVENTS] [SECONDS]
# Builds the release binary, makes (once) a database with EVENTS demo events in
# target/bench/ (with BENCH_POSTGRES, copied once into PostgreSQL and served from there),
# serves it on 127.0.0.1:18080 and runs wrk against the main pages.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1500}
seconds=${2:-10}
source .ci/bench-common.sh
serve_on 18080
trap 'kill $server 2>/dev/null' EXIT
base=http://127.0.0.1:18080
slug=$(curl -s "$base/cities?field=literature" | grep -o 'href="/cities/[a-z-]*"' | head -1 | sed 's/.*cities\/\(.*\)"/\1/')
printf '%-52s %10s %9s %9s %9s\n' "path ($events events on $([ -n "${BENCH_POSTGRES:-}" ] && echo PostgreSQL || echo SQLite), 2 connections)" "req/s" "p50" "p90" "p99"
for path in / "/events" "/events?field=music&kind=performance" "/events?q=jazz" "/events?page=50" \
            "/cities" "/cities/$slug" "/fields/music" "/events/1"; do
  measure "$path" "$base$path"
done
