#!/usr/bin/env bash
# Every kind of feed of two databases through the strict iCalendar checker
# (../shared/tools/ics-check: four parsers that must agree, plus RFC 5545 rule checks):
# random demo events, and events at the edges of time zones (`demo --zone-edges`).
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
servers=()
pg_db=""
cleanup() {
  kill "${servers[@]}" 2>/dev/null || true
  rm -rf "$tmp"
  for name in $pg_db; do
    psql "$CREATIVE_CALENDAR_TEST_POSTGRES" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

# serve DATABASE: the binary on a free port; sets `base` to its address once it answers.
# A port of its own, never a fixed one, so that a server another checkout left running
# on the same machine is never the one checked.
serve() {
  local log="$tmp/server-${#servers[@]}.log"
  "$bin" serve --database "$1" --bind "127.0.0.1:0" --workers 1 >"$log" 2>&1 &
  servers+=($!)
  base=""
  for _ in $(seq 100); do
    [ -n "$base" ] || base=$(grep -o 'on http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -c4- || true)
    [ -n "$base" ] && curl -sf "$base/healthz" >/dev/null && return
    sleep 0.1
  done
  echo "FAIL  the server for $1 did not start"; cat "$log"; exit 1
}

# event_ids BASE QUERY N [TITLE]: the first N events the listing /events?QUERY shows
# (whose titles hold TITLE).
event_ids() {
  curl -sf "$1/events?$2" | grep -o 'href="/events/[0-9]*">[^<]*' | grep -e "${4:-}" \
    | grep -o '/[0-9]*"' | tr -dc '0-9\n' | head -"$3"
}

failed=0
# check BASE FEED...: each feed through the checker, warnings included.
check() {
  local base=$1 feed count out; shift
  for feed in "$@"; do
    count=$(curl -sf "$base$feed" | grep -c '^BEGIN:VEVENT' || true)
    if out=$("$ics_check/check_ics.sh" "$base$feed" --fail-on-warn 2>&1); then
      echo "PASS  $feed ($count events): $(tail -1 <<<"$out")"
    else
      echo "FAIL  $feed ($count events)"
      echo "$out"
      failed=1
    fi
  done
}

# Random demo events: what a new installation looks like.
"$bin" demo --events 1500 --seed 7 --database "$tmp/demo.db" >/dev/null 2>&1
serve "$tmp/demo.db"
demo_base=$base
event=$(event_ids "$base" "city=krakow" 1)
# Series (weekly, with a skipped date, a cancelled and a moved, retitled occurrence;
# monthly on the first Friday) and exhibitions with opening hours, each alone.
series_feeds=()
for id in $(event_ids "$base" "kind=workshop&q=eight+evenings" 3 "Tuesdays\|guest") \
  $(event_ids "$base" "kind=screening&q=archive+introduction" 2 "Fridays") \
  $(event_ids "$base" "kind=exhibition&q=late+opening+thursdays" 2 "the exhibition"); do
  series_feeds+=("/events/$id/calendar.ics")
done
if [ "${#series_feeds[@]}" -lt 5 ]; then
  echo "FAIL  the demo data has too few series and exhibitions to check (${#series_feeds[@]})"; failed=1
fi
echo "== demo data (1,500 random events, 30 of them series or exhibitions with opening hours)"
check "$base" \
  "/calendar.ics" \
  "/cities/krakow/calendar.ics" \
  "/cities/auckland/calendar.ics" \
  "/cities/kathmandu/calendar.ics" \
  "/cities/concepcion/calendar.ics" \
  "/fields/music/calendar.ics" \
  "/events.ics?field=film&kind=screening" \
  "/events.ics?q=festival&from=2026-12-01&to=2027-06-30" \
  "/events.ics?kind=workshop" \
  "/events.ics?kind=exhibition&open=today" \
  "/events/$event/calendar.ics" \
  "${series_feeds[@]}"

# Events on every change of the clocks of the coming year, in ten zones (repeated and
# skipped hours, midnight changes, +05:45, +09:30/+10:30, the south, all-day events on
# change days): random events rarely land there.
made=$("$bin" demo --zone-edges --database "$tmp/zones.db" 2>/dev/null)
serve "$tmp/zones.db"
echo "== zone edges (demo --zone-edges: $made)"
city_feeds=()
for city in berlin dublin santa-fe havana concepcion auckland adelaide beirut casablanca kathmandu; do
  city_feeds+=("/cities/$city/calendar.ics")
done
single_feeds=()
for id in $(event_ids "$base" "q=repeated" 3 "repeated hour") \
  $(event_ids "$base" "q=skipped" 2 "skipped hour"); do
  single_feeds+=("/events/$id/calendar.ics")
done
check "$base" \
  "/calendar.ics" \
  "${city_feeds[@]}" \
  "/fields/music/calendar.ics" \
  "/events.ics?q=repeated" \
  "/events.ics?kind=festival" \
  "${single_feeds[@]}"

# The same kinds of feed served from PostgreSQL, when .ci/run names a server: a demo
# database and a zone-edge database, as above.
if [ -n "${CREATIVE_CALENDAR_TEST_POSTGRES:-}" ]; then
  pg_url() { sed -E 's#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/'"$1"'#' <<<"$CREATIVE_CALENDAR_TEST_POSTGRES"; }
  for kind in demo zones copy; do
    name="cc_feeds_${kind}_$$"
    pg_db="$pg_db $name"
    psql "$CREATIVE_CALENDAR_TEST_POSTGRES" -qc \
      "CREATE DATABASE $name ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'" >/dev/null
  done
  "$bin" demo --events 1500 --seed 7 --database "$(pg_url "cc_feeds_demo_$$")" >/dev/null 2>&1
  serve "$(pg_url "cc_feeds_demo_$$")"
  echo "== PostgreSQL: demo data"
  check "$base" \
    "/calendar.ics" \
    "/cities/krakow/calendar.ics" \
    "/cities/kathmandu/calendar.ics" \
    "/fields/music/calendar.ics" \
    "/events.ics?q=festival&from=2026-12-01&to=2027-06-30"
  "$bin" demo --zone-edges --database "$(pg_url "cc_feeds_zones_$$")" >/dev/null 2>&1
  serve "$(pg_url "cc_feeds_zones_$$")"
  echo "== PostgreSQL: zone edges"
  check "$base" "/calendar.ics" "${city_feeds[@]}"

  # A SQLite installation moved with `db copy`: both backends serve the same bytes.
  echo "== db copy: 5,000 demo events from SQLite into PostgreSQL"
  "$bin" demo --events 5000 --seed 7 --database "$tmp/copy.db" >/dev/null 2>&1
  "$bin" db copy --from "$tmp/copy.db" --to "$(pg_url "cc_feeds_copy_$$")"
  serve "$tmp/copy.db"; lite=$base
  serve "$(pg_url "cc_feeds_copy_$$")"; pg=$base
  for path in "/calendar.ics" "/cities/krakow/calendar.ics" "/fields/film/calendar.ics" \
    "/events?q=festival" "/events?q=FESTIV" "/events?q=krak" "/events?q=lumi%C3%A8re" \
    "/events?q=K%C3%A9rk%C3%BCl" "/events?q=jazz+night" "/api/v1/events?q=jazz&limit=100"; do
    curl -sf -D "$tmp/h1" "$lite$path" -o "$tmp/b1"
    curl -sf -D "$tmp/h2" "$pg$path" -o "$tmp/b2"
    e1=$(grep -i '^etag:' "$tmp/h1" | tr -d '\r' || true)
    e2=$(grep -i '^etag:' "$tmp/h2" | tr -d '\r' || true)
    if cmp -s "$tmp/b1" "$tmp/b2" && [ "$e1" = "$e2" ]; then
      echo "PASS  $path: the same $(wc -c <"$tmp/b1") bytes${e1:+ and ETag} from both"
    else
      echo "FAIL  $path differs between SQLite and PostgreSQL ($e1 / $e2)"
      diff <(tr '>' '\n' <"$tmp/b1") <(tr '>' '\n' <"$tmp/b2") | head -20
      failed=1
    fi
  done
else
  echo "SKIPPED  PostgreSQL-served feeds (CREATIVE_CALENDAR_TEST_POSTGRES is not set)"
fi

# The gzip representation is the same calendar.
base=$demo_base
curl -sf "$base/calendar.ics" -o "$tmp/plain.ics"
curl -sf --compressed "$base/calendar.ics" -o "$tmp/unzipped.ics" -D "$tmp/headers"
if grep -qi '^content-encoding: gzip' "$tmp/headers" && cmp -s "$tmp/plain.ics" "$tmp/unzipped.ics"; then
  echo "PASS  /calendar.ics with Accept-Encoding: gzip is the same feed compressed"
else
  echo "FAIL  /calendar.ics with Accept-Encoding: gzip"
  failed=1
fi
exit $failed
