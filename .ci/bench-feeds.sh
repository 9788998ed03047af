#!/usr/bin/env bash
# Feed load benchmark of the release binary with wrk, on loopback only.
#   .ci/bench-feeds.sh [EVENTS] [SECONDS]
# Serves a database of EVENTS demo events (made once in target/bench/) and measures:
# the first request of the network feed after a start (the feed is built), a full
# download of the kept feed, and a revalidation that answers 304 (what a subscribed
# calendar app does on every poll of an unchanged feed).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1500}
seconds=${2:-10}
source .ci/bench-common.sh
base=http://127.0.0.1:18081
trap 'kill $server 2>/dev/null' EXIT

echo "first request after a start (the feed is built), 3 starts:"
for _ in 1 2 3; do
  serve_on 18081
  curl -s -o /dev/null -w "  /calendar.ics: %{time_total} s, %{size_download} bytes" "$base/calendar.ics"
  curl -s -o /dev/null -w ", gzipped %{size_download} bytes\n" -H "Accept-Encoding: gzip" "$base/calendar.ics"
  kill $server; wait $server 2>/dev/null || true
done
serve_on 18081
etag() { curl -sI "$base$1" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r'; }
network_etag=$(etag /calendar.ics)
city_etag=$(etag /cities/krakow/calendar.ics)
printf '%-52s %10s %9s %9s %9s\n' "request ($events events, 2 connections)" "req/s" "p50" "p90" "p99"
measure "GET /calendar.ics (kept, full body)" "$base/calendar.ics"
measure "GET /calendar.ics If-None-Match (304)" -H "If-None-Match: $network_etag" "$base/calendar.ics"
measure "GET /calendar.ics Accept-Encoding: gzip (kept)" -H "Accept-Encoding: gzip" "$base/calendar.ics"
measure "GET /cities/krakow/calendar.ics (kept)" "$base/cities/krakow/calendar.ics"
measure "GET /cities/krakow/calendar.ics If-None-Match (304)" -H "If-None-Match: $city_etag" "$base/cities/krakow/calendar.ics"
