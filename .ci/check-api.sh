#!/usr/bin/env bash
# The JSON API of a served demo database against its own OpenAPI document, with
# schemathesis (../shared/tools/webcheck's api_fuzz.sh): no 5xx, and every status,
# content type, header and body as the document says, for generated requests and for
# methods the document does not list. The writes are called with an admin's token made
# for the run. Every check of schemathesis runs, positive_data_acceptance and
# negative_data_rejection included (see .ci/schemathesis.toml for the one exception).
# Part of .ci/run; by hand: bash .ci/check-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
W=${WEBCHECK_DIR:-../shared/tools/webcheck}
[ -d "$W/bin" ] || W=/work/shared/tools/webcheck
[ -d "$W/bin" ] || { echo "SKIPPED: webcheck not found beside the checkout (set WEBCHECK_DIR)"; exit 0; }
W=$(cd "$W" && pwd)
bash "$W/install.sh" >/dev/null
bin=${1:-target/debug/creative-calendar}
[ -x "$bin" ] || cargo build --locked --quiet
DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$PORT
trap 'kill $server 2>/dev/null || true; rm -rf "$DIR"' EXIT
"$bin" demo --database "$DIR/a.db" --events 300 --seed 7 >/dev/null
# A token, so that the writes are fuzzed past their 401 (an admin publishes directly);
# the limit raised, so that the run is not cut short by 429s.
CREATIVE_CALENDAR_ADMIN_PASSWORD=fuzz-password-1234 "$bin" admin create --database "$DIR/a.db" \
  --email fuzz@example.org --name Fuzz >/dev/null
TOKEN=$("$bin" tokens create --database "$DIR/a.db" --email fuzz@example.org --name fuzz | grep -o 'cc_[A-Za-z0-9_-]*' | head -1)
"$bin" serve --database "$DIR/a.db" --bind "127.0.0.1:$PORT" --public-url "$B" --workers 1 \
  --api-writes-per-hour 1000000 >"$DIR/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "$B/healthz" >/dev/null && break; sleep 0.2; done
# The rules that relate two values, which no schema states, in .ci/schemathesis_hooks.py;
# the settings (one exception for the writes, which says why) in .ci/schemathesis.toml.
cp .ci/schemathesis.toml "$DIR/schemathesis.toml"
WEBCHECK_OUT="$DIR/reports" \
  PYTHONPATH="$PWD/.ci${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks \
  ST_MAX_EXAMPLES=${ST_MAX_EXAMPLES:-40} ST_TIMEOUT=${ST_TIMEOUT:-300} bash "$W/bin/api_fuzz.sh" \
  "$B/api/v1/openapi.json" "$B" --seed 7 \
  --header "Authorization: Bearer $TOKEN"
