#!/usr/bin/env bash
# Two servers on one PostgreSQL database behind Debian's nginx, with the very
# deploy/nginx.conf of the repository (its ports moved to free loopback ones): a write
# through one server is read through the other within its revision check interval, and
# through nginx, with the same ETags. Part of .ci/run; by hand:
#   CREATIVE_CALENDAR_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test bash .ci/check-proxy.sh
# On a local server it also restarts PostgreSQL under the two servers.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CREATIVE_CALENDAR_TEST_POSTGRES:-}" ]; then
  echo "SKIPPED: CREATIVE_CALENDAR_TEST_POSTGRES is not set"; exit 0
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$nginx" ]; then
  echo "installing nginx-light"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
fi
bin=${1:-target/debug/creative-calendar}
[ -x "$bin" ] || cargo build --locked --quiet

tmp=$(mktemp -d)
db="cc_proxy_$$"
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  psql "$CREATIVE_CALENDAR_TEST_POSTGRES" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
a_port=$(free_port); b_port=$(free_port); proxy_port=$(free_port)
A=http://127.0.0.1:$a_port; B=http://127.0.0.1:$b_port; P=http://127.0.0.1:$proxy_port

psql "$CREATIVE_CALENDAR_TEST_POSTGRES" -qc \
  "CREATE DATABASE $db ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'" >/dev/null
url="$(sed -E 's#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/'"$db"'#' <<<"$CREATIVE_CALENDAR_TEST_POSTGRES")"
CREATIVE_CALENDAR_ADMIN_PASSWORD=proxy-password-1234 "$bin" admin create --database "$url" \
  --email proxy@example.org --name Proxy >/dev/null
token=$("$bin" tokens create --database "$url" --email proxy@example.org --name proxy)

# Both servers as the systemd unit starts them: one database, one secret key.
key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
for port in "$a_port" "$b_port"; do
  CREATIVE_CALENDAR_SECRET_KEY=$key "$bin" serve --database "$url" --bind "127.0.0.1:$port" \
    --public-url "$P" --trust-forwarded-for --workers 1 >"$tmp/server-$port.log" 2>&1 &
  pids+=($!)
done

# deploy/nginx.conf as it is, but for the ports and the files nginx writes.
sed -e "s/listen 80;/listen 127.0.0.1:$proxy_port;/" -e "s/127.0.0.1:8081/127.0.0.1:$a_port/" \
  -e "s/127.0.0.1:8082/127.0.0.1:$b_port/" deploy/nginx.conf >"$tmp/site.conf"
grep -q "127.0.0.1:$a_port" "$tmp/site.conf" && grep -q "127.0.0.1:$b_port" "$tmp/site.conf" \
  || { echo "FAIL  deploy/nginx.conf no longer has the upstreams 127.0.0.1:8081 and :8082"; exit 1; }
cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 256; }
http {
  access_log $tmp/nginx-access.log;
  client_body_temp_path $tmp/body; proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi; uwsgi_temp_path $tmp/uwsgi; scgi_temp_path $tmp/scgi;
  include $tmp/site.conf;
}
CONF
"$nginx" -t -q -c "$tmp/nginx.conf" -p "$tmp"
"$nginx" -c "$tmp/nginx.conf" -p "$tmp"

for base in "$A" "$B" "$P"; do
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "$base/healthz" >/dev/null || { echo "FAIL  $base does not answer"; cat "$tmp"/*.log; exit 1; }
done

failed=0
pass() { echo "PASS  $1"; }
fail() { echo "FAIL  $1"; failed=1; }
name() { case $1 in "$A") echo "server A" ;; "$B") echo "server B" ;; *) echo nginx ;; esac; }
etag() { curl -sf -o /dev/null -D - "$1" | tr -d '\r' | grep -i '^etag:' | cut -d' ' -f2; }

feed=/cities/braga/calendar.ics
before=$(etag "$A$feed")
[ -n "$before" ] && [ "$before" = "$(etag "$B$feed")" ] && [ "$before" = "$(etag "$P$feed")" ] \
  && pass "the Braga feed has one ETag through A, B and nginx" || fail "ETags differ before the write"

day=$(date -u -d '+30 days' +%F)
created=$(curl -sf -X POST "$A/api/v1/events" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d "{\"city\": \"braga\", \"kind\": \"performance\", \"title\": \"Through the proxy\",
       \"venue\": \"Theatro Circo\", \"start_date\": \"$day\", \"start_time\": \"21:00\"}")
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["event"]["id"])' <<<"$created")
pass "event $id written through server A"
# Server B trusts the revision it read for --revision-check-ms (100 ms by default): a
# write through another server is seen within that, not necessarily the same instant.
sleep 0.2

for base in "$B" "$P"; do
  curl -sf "$base/api/v1/events/$id" | grep -q '"Through the proxy"' \
    && pass "read within the revision interval through $(name "$base")" || fail "event $id not read through $base"
  curl -sf "$base$feed" | grep -q 'SUMMARY:Through the proxy' \
    && pass "in the Braga feed through $(name "$base")" || fail "not in the feed through $base"
done
after=$(etag "$B$feed")
[ "$after" != "$before" ] && [ "$after" = "$(etag "$A$feed")" ] && [ "$after" = "$(etag "$P$feed")" ] \
  && pass "the feed has a new ETag, the same through A, B and nginx" || fail "ETags after the write"
curl -sf -o /dev/null -w '%{http_code}' -H "If-None-Match: $before" "$P$feed" | grep -q 200 \
  && pass "the old ETag gets the new feed, not a 304" || fail "a stale 304"

# A change through nginx (whichever server it picks) shows on both.
curl -sf -X POST "$P/api/v1/events/$id/cancel" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"note": "Rain"}' >/dev/null
sleep 0.2
for base in "$A" "$B"; do
  curl -sf "$base/api/v1/events/$id" | grep -q '"status":"cancelled"' \
    && pass "cancelled through nginx, cancelled on $(name "$base")" || fail "not cancelled on $base"
done
# A PostgreSQL restart costs at most the requests in flight: both servers keep their
# process and answer again by themselves (only where this script may restart it).
if command -v pg_ctlcluster >/dev/null && [[ "$CREATIVE_CALENDAR_TEST_POSTGRES" == *"@127.0.0.1"* ]]; then
  # While the database is away, a request gets a 503 with Retry-After (which proxies
  # and clients retry), within the pool's connection timeout: not a 500, not a hang.
  pg_ctlcluster --skip-systemctl-redirect 15 main stop
  out=$(curl -s -D - -o /dev/null -m 20 -w '%{http_code}' "$A/api/v1/events/$id" || true)
  code=${out##*$'\n'}
  if [ "$code" = 503 ] && grep -qi '^retry-after:' <<<"$out"; then
    pass "with PostgreSQL stopped, server A answers 503 with Retry-After"
  else
    fail "with PostgreSQL stopped, server A answered $code"
  fi
  # Started again, every pooled connection is one the restart closed.
  pg_ctlcluster --skip-systemctl-redirect 15 main start
  for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
  for base in "$A" "$B" "$P"; do
    code=$(curl -s -o /dev/null -m 20 -w '%{http_code}' "$base/api/v1/events/$id")
    [ "$code" = 200 ] && pass "after a PostgreSQL restart, $(name "$base") answers 200 at once" \
      || fail "after a PostgreSQL restart, $(name "$base") answered $code"
  done
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "a server process exited during the restart"
  done
fi
grep -q '"GET /api/v1/events/' "$tmp/nginx-access.log" && pass "nginx logged the requests" || fail "nginx log"
exit $failed
