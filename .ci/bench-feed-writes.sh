#!/usr/bin/env bash
# Reads of a city's feed while clients write to that city (issue 9, point 7), on the
# release binary, loopback only.
#   .ci/bench-feed-writes.sh [EVENTS] [SECONDS] [WRITERS]
# Serves a copy of the database of EVENTS demo events (made once in target/bench/; with a
# million, Kraków's feed holds about 2,600 events, 3 MB), signs in a trusted admin who
# adds one event to Kraków, and for SECONDS runs at once: WRITERS clients editing that
# event through its form (a new title each time, published at once, so every edit moves
# the data revision and changes Kraków's feed, whose size stays the same), 4 readers of
# Kraków's feed and 4 of Braga's. Prints the reads completed and their latency for each
# feed, then checks that Kraków's feed shows the last edit.
# BENCH_BIN=path/to/creative-calendar measures another build (an older commit's, say) on
# the same data; it is not rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
seconds=${2:-10}
writers=${3:-16}
source .ci/bench-common.sh
W=${WEBCHECK_DIR:-../shared/tools/webcheck}
[ -x "$W/bin/form_load.py" ] || { echo "webcheck not found at $W (set WEBCHECK_DIR)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3; }
port=18082
base=http://127.0.0.1:$port
tmp=$(mktemp -d -p target/bench)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$tmp"' EXIT

# The writes must not pile up in the shared demo database: each run gets a copy.
cp "$db" "$tmp/b.db"
[ -f "$db-wal" ] && cp "$db-wal" "$tmp/b.db-wal"
db=$tmp/b.db
password="benchmark password 1"
CREATIVE_CALENDAR_ADMIN_PASSWORD="$password" "$bin" admin create --database "$db" \
  --email bench@example.org --name "Bench Admin" --organisation "Bench Festival" >/dev/null 2>&1
serve_on $port

jar=$tmp/jar
token() { grep -o 'name="csrf_token" value="[^"]*"' "$1" | head -1 | sed 's/.*value="//;s/"//'; }
curl -s -c "$jar" -b "$jar" "$base/login" -o "$tmp/login.html"
status=$(curl -s -c "$jar" -b "$jar" "$base/login" --data-urlencode "csrf_token=$(token "$tmp/login.html")" \
  --data-urlencode "email=bench@example.org" --data-urlencode "password=$password" \
  -o /dev/null -w '%{http_code}')
[ "$status" = 303 ] || { echo "sign-in failed: HTTP $status" >&2; exit 1; }
session=$(awk '$6=="cc_session"{print $7}' "$jar")

event_fields=(--data-urlencode city=krakow --data-urlencode kind=festival
  --data-urlencode "venue=Rynek Główny" --data-urlencode start_date=2027-05-12
  --data-urlencode start_time=19:00 --data-urlencode "description=Edited again and again.")
curl -s -c "$jar" -b "$jar" "$base/events/new" -o "$tmp/new.html"
location=$(curl -s -c "$jar" -b "$jar" "$base/events/new" -o /dev/null -w '%{redirect_url}' \
  --data-urlencode "csrf_token=$(token "$tmp/new.html")" --data-urlencode "title=Edited 0" \
  "${event_fields[@]}")
id=${location##*/events/}
[[ "$id" =~ ^[0-9]+$ ]] || { echo "adding the event failed: $location" >&2; exit 1; }

hot=/cities/krakow/calendar.ics
other=/cities/braga/calendar.ics
for path in $hot $other; do
  curl -s -o /dev/null -w "$path: first request (built) %{time_total} s, %{size_download} bytes\n" "$base$path"
done

# wrk's own summary stops at p99 and leaves out requests slower than --timeout: give it
# 30 s, and print the reads, p50 and p95 (latency in microseconds).
cat >"$tmp/stats.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("%d reads, p50 %.0f ms, p95 %.0f ms, max %.0f ms, non-2xx %d\n",
    summary.requests, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency.max / 1000, summary.errors.status))
end
LUA
read_feed() { wrk -t1 -c4 -d"${seconds}s" --timeout 30s -s "$tmp/stats.lua" "$base$1" | tail -1; }

echo "$seconds s, $bin: $writers writers to Kraków, 4 readers of each feed"
python3 "$W/bin/form_load.py" "$base/events/$id/edit" \
  --header "Cookie: cc_session=$session" \
  --csrf-url "$base/events/$id/edit" --csrf-field csrf_token \
  --field 'city=krakow' --field 'kind=festival' --field 'title=Edited {token}' \
  --field 'venue=Rynek Główny' --field 'start_date=2027-05-12' --field 'start_time=19:00' \
  --field 'description=Edited again and again.' \
  --requests 1000000 --concurrency "$writers" --max-seconds "$seconds" --ack-status 303 \
  --acked-out "$tmp/acked.txt" >"$tmp/writes.txt" 2>&1 &
writing=$!
read_feed $hot >"$tmp/hot.txt" &
reading_hot=$!
read_feed $other >"$tmp/other.txt" &
reading_other=$!
wait $reading_hot $reading_other
# Stopped by --max-seconds, form_load reports "FAIL: only N sent"; the counts are what matter.
wait $writing || true
echo "  $hot (written to): $(cat "$tmp/hot.txt")"
echo "  $other (not written to): $(cat "$tmp/other.txt")"
echo "  writes: $(grep -o 'acknowledged=[0-9]*.*' "$tmp/writes.txt" | head -1)"
# A build may still be running, and a request meanwhile gets the version before it; a
# write that its client gave up on may still commit. Once both are over, the next request
# builds from all the writes: the feed shows the title the database holds.
shown=
for _ in 1 2 3 4 5; do
  sleep 2
  title=$(sqlite3 "$db" "SELECT title FROM events WHERE id = $id")
  curl -s -o "$tmp/after.ics" "$base$hot"
  shown=$(grep -a '^SUMMARY:Edited ' "$tmp/after.ics" | tr -d '\r')
  [ "$shown" = "SUMMARY:$title" ] && break
done
if [ "$shown" = "SUMMARY:$title" ]; then
  echo "  afterwards, $hot shows the last edit ($title)"
else
  echo "  afterwards, $hot shows ${shown#SUMMARY:}, not the last edit ($title)" >&2
  exit 1
fi
