#!/usr/bin/env bash
# End-to-end test in a real browser (headless Chromium through chromedriver): sign up,
# submit an event whose end is before its start, see the error with everything kept,
# fix it, land on the pending event page. The steps are in .ci/e2e/browser_test.py.
#   .ci/e2e-browser.sh [BINARY]
# Uses the debug binary `cargo test` has already built, unless given another.
# Screenshots go to $E2E_OUT, or to a new temporary folder; its path is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/creative-calendar}
started=$SECONDS

# Debian's chromium and its driver (and Python 3 for the test), if missing.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q)
  if ! "${apt[@]}" install "${need[@]}"; then
    "${apt[@]}" update
    "${apt[@]}" install "${need[@]}"
  fi
fi

[ -x "$bin" ] || cargo build --locked

out=${E2E_OUT:-$(mktemp -d -t e2e-browser-out.XXXXXX)}
mkdir -p "$out"
tmp=$(mktemp -d -t e2e-browser.XXXXXX)
server=""
driver=""
cleanup() {
  # chromedriver runs in its own process group, with the browser it starts.
  if [ -n "$driver" ]; then kill -- -"$driver" 2>/dev/null || true; fi
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Waits up to $2 seconds for $1 to answer 200 (and, for chromedriver, "ready": true),
# giving up early if process $3 has ended.
wait_ready() {
  python3 - "$1" "$2" "$3" <<'EOF'
import json, os, sys, time, urllib.request
url, deadline, pid = sys.argv[1], time.monotonic() + float(sys.argv[2]), int(sys.argv[3])
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        print(f"process {pid} has ended", file=sys.stderr)
        sys.exit(1)
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            body = r.read()
            if r.status == 200 and (not url.endswith("/status") or json.loads(body)["value"]["ready"]):
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
sys.exit(1)
EOF
}
fail() {
  echo "FAIL  $1"
  shift
  for log in "$@"; do
    echo "---- last lines of $(basename "$log")"
    tail -n 20 "$log" | sed 's/\x1b\[[0-9;]*m//g'
  done
  exit 1
}

port=$(free_port)
base="http://127.0.0.1:$port"
NO_COLOR=1 "$bin" serve --database "$tmp/e2e.db" --bind "127.0.0.1:$port" --workers 2 >"$tmp/server.log" 2>&1 &
server=$!

driver_port=$(free_port)
setsid /usr/bin/chromedriver --port="$driver_port" >"$tmp/chromedriver.log" 2>&1 &
driver=$!

# The first start creates the database and loads the network's cities.
wait_ready "$base/healthz" 60 "$server" ||
  fail "the app did not come up at $base/healthz (60 s at most)" "$tmp/server.log"
wait_ready "http://127.0.0.1:$driver_port/status" 20 "$driver" ||
  fail "chromedriver was not ready (20 s at most)" "$tmp/chromedriver.log"
echo "app at $base, chromedriver at port $driver_port, screenshots in $out"

status=0
timeout 90 python3 .ci/e2e/browser_test.py --base "$base" \
  --webdriver "http://127.0.0.1:$driver_port" --out "$out" || status=$?
if [ "$status" -ne 0 ]; then
  [ "$status" -eq 124 ] && echo "FAIL  the browser test took over 90 s"
  fail "end-to-end browser test (exit $status, $((SECONDS - started)) s)" "$tmp/server.log"
fi
echo "PASS  end-to-end browser test in $((SECONDS - started)) s; screenshots in $out"
