#!/usr/bin/env bash
# Every kind of feed of a demo database through the strict iCalendar checker
# (../shared/tools/ics-check: four parsers that must agree, plus RFC 5545 rule checks).
#   .ci/check-feeds.sh [BINARY]
# Uses the debug binary `cargo test` has already built, unless given another.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/creative-calendar}

# The checker lives beside the checkout, not in it.
ics_check=""
for dir in "${ICS_CHECK_DIR:-}" "../shared/tools/ics-check" "/work/shared/tools/ics-check"; do
  if [ -n "$dir" ] && [ -x "$dir/check_ics.sh" ]; then ics_check=$dir; break; fi
done
if [ -z "$ics_check" ]; then
  echo "SKIPPED: ics-check not found (set ICS_CHECK_DIR to ../shared/tools/ics-check)" >&2
  exit 0
fi
bash "$ics_check/install.sh" >/dev/null

[ -x "$bin" ] || cargo build --locked
tmp=$(mktemp -d)
port=18095
"$bin" demo --events 1500 --seed 7 --database "$tmp/demo.db" >/dev/null 2>&1
"$bin" serve --database "$tmp/demo.db" --bind "127.0.0.1:$port" --workers 1 >"$tmp/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

base="http://127.0.0.1:$port"
event=$(curl -sf "$base/events?city=krakow" | grep -o 'href="/events/[0-9]*"' | head -1 | grep -o '[0-9]*')
feeds=(
  "/calendar.ics"                              # the network
  "/cities/krakow/calendar.ics"                # Europe/Warsaw: EU summer time
  "/cities/auckland/calendar.ics"              # Pacific/Auckland: south, summer time in January
  "/cities/kathmandu/calendar.ics"             # Asia/Kathmandu: +05:45, no summer time
  "/cities/concepcion/calendar.ics"            # America/Santiago: south, its own rules
  "/fields/music/calendar.ics"                 # a field
  "/events.ics?field=film&kind=screening"     # a filtered feed
  "/events.ics?q=festival&from=2026-12-01&to=2027-06-30"
  "/events/$event/calendar.ics"                # one event
)
failed=0
for feed in "${feeds[@]}"; do
  count=$(curl -sf "$base$feed" | grep -c '^BEGIN:VEVENT' || true)
  if out=$("$ics_check/check_ics.sh" "$base$feed" --fail-on-warn 2>&1); then
    echo "PASS  $feed ($count events): $(tail -1 <<<"$out")"
  else
    echo "FAIL  $feed ($count events)"
    echo "$out"
    failed=1
  fi
done
# The gzip representation is the same calendar.
curl -sf "$base/calendar.ics" -o "$tmp/plain.ics"
curl -sf --compressed "$base/calendar.ics" -o "$tmp/unzipped.ics" -D "$tmp/headers"
if grep -qi '^content-encoding: gzip' "$tmp/headers" && cmp -s "$tmp/plain.ics" "$tmp/unzipped.ics"; then
  echo "PASS  /calendar.ics with Accept-Encoding: gzip is the same feed compressed"
else
  echo "FAIL  /calendar.ics with Accept-Encoding: gzip"
  failed=1
fi
exit $failed
