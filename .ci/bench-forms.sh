#!/usr/bin/env bash
# Benchmarks of the organisers' side on the release binary: how long a sign-in takes
# (Argon2id dominates), and how many event submissions per second the server stores,
# with webcheck's form_load.py checking afterwards that every acknowledged one is in the
# network feed. Usage: .ci/bench-forms.sh [SUBMISSIONS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 300); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; echo "no answer from $1" >&2; exit 1; }
SUBMISSIONS=${1:-1000}
CONCURRENCY=${2:-8}
W=${WEBCHECK_DIR:-../shared/tools/webcheck}
[ -x "$W/bin/form_load.py" ] || { echo "webcheck not found at $W (set WEBCHECK_DIR)" >&2; exit 2; }

cargo build --release --locked --quiet
BIN=target/release/creative-calendar
tmp=$(mktemp -d)
PORT=$(free_port)
B=http://127.0.0.1:$PORT
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
PASSWORD="benchmark password 1"
CREATIVE_CALENDAR_ADMIN_PASSWORD="$PASSWORD" $BIN admin create --database "$tmp/b.db" \
  --email bench@example.org --name "Bench Admin" --organisation "Bench Festival" >/dev/null 2>&1
RUST_LOG=warn $BIN serve --database "$tmp/b.db" --bind 127.0.0.1:$PORT >"$tmp/server.log" 2>&1 &
server=$!
wait_for "$B/healthz"

token() { grep -o 'name="csrf_token" value="[^"]*"' "$1" | head -1 | sed 's/.*value="//;s/"//'; }
echo "== sign-in: 20 in a row (each one Argon2id verification, m=19 MiB, t=2)"
times=()
for i in $(seq 20); do
  jar="$tmp/jar$i"
  curl -s -c "$jar" -b "$jar" "$B/login" -o "$tmp/login.html"
  t=$(curl -s -c "$jar" -b "$jar" "$B/login" --data-urlencode "csrf_token=$(token "$tmp/login.html")" \
      --data-urlencode "email=bench@example.org" --data-urlencode "password=$PASSWORD" \
      -o /dev/null -w '%{http_code} %{time_total}')
  [ "${t%% *}" = 303 ] || { echo "sign-in failed: $t" >&2; exit 1; }
  times+=("${t#* }")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "sign-in: min %.1f ms, median %.1f ms, max %.1f ms\n", a[1]*1000, a[int((NR+1)/2)]*1000, a[NR]*1000}'

session=$(awk '$6=="cc_session"{print $7}' "$tmp/jar20")
echo "== $SUBMISSIONS event submissions, $CONCURRENCY at a time (a trusted organiser: each is published)"
python3 "$W/bin/form_load.py" "$B/events/new" \
  --header "Cookie: cc_session=$session" \
  --csrf-url "$B/events/new" --csrf-field csrf_token \
  --field 'city=braga' --field 'kind=festival' --field 'title=Load {token}' \
  --field 'venue=Theatro Circo' --field 'start_date=2027-05-12' --field 'start_time=19:00' \
  --field 'description=Submitted by the form benchmark, number {n}.' \
  --requests "$SUBMISSIONS" --concurrency "$CONCURRENCY" --ack-status 303 \
  --verify-url "$B/calendar.ics"
