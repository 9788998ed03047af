#!/usr/bin/env bash
# Our server against nginx serving the very same bytes as static files, with the same
# load tool and settings: how far from "a file server" each page, API answer and feed is,
# at 10,000 and at 1,000,000 events, on SQLite (and PostgreSQL if asked).
#
#   bench/run.sh [--sizes "10000 1000000"] [--seconds 10] [--postgres URL] [--smoke]
#
#   --sizes     event counts, one database each (default "10000 1000000")
#   --seconds   length of each measured wrk run (default 10; a 2 s warm-up precedes it)
#   --postgres  also serve each size from PostgreSQL (default: $BENCH_POSTGRES), e.g.
#               postgres://postgres@127.0.0.1:5432/test; the SQLite file is copied once
#               into a database cc_bench_N there
#   --smoke     for CI, after the tests: 1,000 events, 2 s a target after 1 s of
#               warm-up, SQLite only, the debug binary; prints only (no results files,
#               no README) and exits non-zero if an answer is not the expected 200/304,
#               if ours and nginx's bodies differ in size, or if wrk saw non-2xx/3xx
#               answers. --sizes and --seconds still override its defaults.
#   BENCH_BIN=path   use this binary as it is, build nothing
#
# Without --smoke it builds the release binary (cargo build --release --locked), writes
# bench/results/YYYY-MM-DD-run.{txt,json} and rewrites README.md between the lines
# <!-- bench:run:start --> and <!-- bench:run:end --> (if the README has them).
#
# Databases are made once and kept: target/bench/demo-N.db (`demo --events N --seed 1`;
# a million events take about 200 s) and, on PostgreSQL, cc_bench_N (`db copy`).
# Everything runs on loopback; the server, nginx and wrk share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes="" seconds="" postgres=${BENCH_POSTGRES:-} smoke=0
while [ $# -gt 0 ]; do
  case $1 in
    --sizes) sizes=${2:?--sizes needs a value}; shift 2 ;;
    --sizes=*) sizes=${1#*=}; shift ;;
    --seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --postgres) postgres=${2:?--postgres needs a URL}; shift 2 ;;
    --postgres=*) postgres=${1#*=}; shift ;;
    --smoke) smoke=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then
  sizes=${sizes:-1000} seconds=${seconds:-2} warmup=1
  [ -n "$postgres" ] && echo "note: --smoke runs on SQLite only; not using $postgres"
  postgres=""
else
  sizes=${sizes:-"10000 1000000"} seconds=${seconds:-10} warmup=2
fi
for n in $sizes $seconds; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "not a positive whole number: $n" >&2; exit 2; }
done

# --- tools ---------------------------------------------------------------------------
apt_install() {
  echo "installing $1" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null; }
}
[ -x /usr/sbin/nginx ] || apt_install nginx-light
nginx=/usr/sbin/nginx
command -v wrk >/dev/null || apt_install wrk
if [ -n "$postgres" ]; then command -v psql >/dev/null || { echo "--postgres needs psql" >&2; exit 2; }; fi

if [ -n "${BENCH_BIN:-}" ]; then
  bin=$BENCH_BIN
elif [ "$smoke" = 1 ]; then
  # CI's tests built this one already; a release build would take minutes.
  bin=target/debug/creative-calendar
  [ -x "$bin" ] || cargo build --locked --quiet
else
  cargo build --release --locked
  bin=target/release/creative-calendar
fi
[ -x "$bin" ] || { echo "no executable at $bin" >&2; exit 2; }

# --- clean-up: everything started here is stopped on any exit --------------------------
tmp=$(mktemp -d -t cc-bench.XXXXXX)
# Started by root, nginx's workers run as nobody: they must be able to read the bodies.
chmod 755 "$tmp"
mkdir -p "$tmp/www" "$tmp/wrk" "$tmp/hdr"
server_pid="" sampler_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  local rc=$?
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; fi
  stop_server
  if [ -f "$tmp/nginx.pid" ]; then
    kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
    for _ in $(seq 50); do [ -f "$tmp/nginx.pid" ] || break; sleep 0.1; done
  fi
  # The logs are worth keeping when something went wrong.
  if [ "$rc" = 0 ]; then rm -rf "$tmp"; else echo "server and nginx logs kept in $tmp" >&2; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- databases, made once -----------------------------------------------------------
# Prints the SQLite file of N demo events. Made under another name and renamed once
# complete, so that an interrupted run never leaves a half-filled file to be reused.
sqlite_db() {
  local db=target/bench/demo-$1.db
  if [ ! -f "$db" ]; then
    mkdir -p target/bench
    rm -f "$db.partial" "$db.partial-wal" "$db.partial-shm"
    echo "making $db ($1 demo events; a million take about 200 s)" >&2
    /usr/bin/time -f "demo --events $1: %e s, max RSS %M KiB" \
      "$bin" demo --events "$1" --seed 1 --database "$db.partial" >&2
    for suffix in -wal -shm; do [ ! -f "$db.partial$suffix" ] || mv "$db.partial$suffix" "$db$suffix"; done
    mv "$db.partial" "$db"
  fi
  echo "$db"
}

# Prints the URL of cc_bench_N on the --postgres server, copied once from the SQLite
# file (as .ci/bench-common.sh does). A database there without events is what an
# interrupted copy leaves (db copy wants an empty target): made again.
postgres_db() {
  local name=cc_bench_$1 url count
  url="$(sed -E 's#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/'"$name"'#' <<<"$postgres")"
  count=$(psql "$url" -Atc "SELECT count(*) FROM events" 2>/dev/null || true)
  if ! [[ $count =~ ^[1-9][0-9]*$ ]]; then
    local db
    db=$(sqlite_db "$1")
    psql "$postgres" -qc "DROP DATABASE IF EXISTS $name" >&2
    psql "$postgres" -qc "CREATE DATABASE $name ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'" >&2
    /usr/bin/time -f "db copy of $1 events into PostgreSQL: %e s" \
      "$bin" db copy --from "$db" --to "$url" >&2
  fi
  echo "$url"
}

# --- our server ---------------------------------------------------------------------
# Starts `serve` on a free port (sets server_pid, ours, start_ms) and times it: from the
# launch to the first 200 of / (rendered on that very request, counts and all), polling
# every 20 ms.
start_server() {
  local db=$1 log=$2 port t0 t1 code
  port=$(free_port)
  ours=http://127.0.0.1:$port
  t0=$(date +%s.%N)
  "$bin" serve --database "$db" --bind "127.0.0.1:$port" --workers 2 >"$log" 2>&1 &
  server_pid=$!
  while :; do
    code=$(curl -s -o /dev/null -m 300 -w '%{http_code}' "$ours/" || true)
    if [ "$code" = 200 ]; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      server_pid=""
      echo "the server exited before answering /; the end of its log:" >&2; tail -20 "$log" >&2; exit 1
    fi
    if (( $(date +%s) - ${t0%.*} > 600 )); then
      echo "no 200 from / within 600 s (last: $code); the end of the log:" >&2; tail -20 "$log" >&2; exit 1
    fi
    sleep 0.02
  done
  t1=$(date +%s.%N)
  start_ms=$(python3 -c "print(round(($t1 - $t0) * 1000))")
  curl -sf -o /dev/null "$ours/healthz" || { echo "/healthz does not answer 200" >&2; exit 1; }
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Keeps in FILE the highest VmRSS of PID, sampled every 0.5 s until killed (run in the
# background beside wrk). Written to another name and renamed: a kill mid-write leaves
# the last complete value.
sample_rss() {
  local pid=$1 file=$2 max=0 v
  while :; do
    v=$(rss_kib "$pid"); v=${v:-0}
    if (( v > max )); then max=$v; echo "$max" >"$file.new"; mv "$file.new" "$file"; fi
    sleep 0.5
  done
}

# fetch URL BODY-FILE HEADER-FILE [curl options]: one request as the tables' "bytes"
# come from, identity encoding; prints "STATUS BODY-BYTES HEADER-BYTES" and a newline
# (without one, `read` would fail at the end of its input).
fetch() {
  local url=$1 body=$2 hdr=$3; shift 3
  curl -s -m 300 -o "$body" -D "$hdr" -H 'Accept-Encoding: identity' \
    -w '%{http_code} %{size_download} %{size_header}\n' "$@" "$url" || echo "000 0 0"
}
etag_of() { tr -d '\r' <"$1" | awk 'tolower($1) == "etag:" {print $2}'; }

# One warm-up (discarded) and one measured wrk run, same settings for ours and nginx's.
# wrk sends no Accept-Encoding: both serve the identity bytes. A 10 s timeout (wrk's is
# 2 s), so that a slow answer counts in the latency instead of dropping out of it.
wrk_run() {
  local out=$1 url=$2; shift 2
  wrk -t2 -c32 -d"${warmup}s" "$@" "$url" >/dev/null 2>&1 || true
  wrk -t2 -c32 -d"${seconds}s" --timeout 10s --latency "$@" "$url" >"$out" 2>&1 \
    || echo "wrk failed (exit $?)" >>"$out"
}

# Our city page shows the city's local time, so its body and ETag change every minute:
# a revalidation run that crossed a minute would get 200s instead of 304s. So those runs
# start early in a minute (if they fit in one at all).
align_to_minute() {
  local need=$((warmup + seconds + 3)) sec
  sec=$(date +%-S)
  if (( need < 60 && 60 - sec < need )); then sleep $((60 - sec + 1)); fi
}

# --- nginx, with a config of its own in the temp dir --------------------------------------
nginx_port=$(free_port)
theirs=http://127.0.0.1:$nginx_port
sed -e "s#@DIR@#$tmp#g" -e "s#@PORT@#$nginx_port#g" bench/nginx.conf.template >"$tmp/nginx.conf"
"$nginx" -t -q -c "$tmp/nginx.conf" -p "$tmp/"
"$nginx" -c "$tmp/nginx.conf" -p "$tmp/"
for _ in $(seq 50); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$theirs/" || true)" != 000 ] && break; sleep 0.1; done

# --- one size on one backend ------------------------------------------------------------
run_one() {
  local size=$1 backend=$2 db=$3 run="$1-$2"
  echo
  echo "== $size events, $backend: starting the server"
  start_server "$db" "$tmp/server-$run.log"
  echo "   started and answered / in $start_ms ms"

  # Concrete targets, asked from the server: the city with the most upcoming events, the
  # first event of the API's list, the month three months from now.
  local slug id from to
  slug=$(curl -sf "$ours/api/v1/cities" | python3 bench/report.py busiest-city)
  id=$(curl -sf "$ours/api/v1/events" | python3 bench/report.py first-event)
  read -r from to < <(python3 bench/report.py month-range 3)
  echo "   busiest city: $slug, event $id, month $from to $to"

  # id -> path on our server, file nginx serves, expected status. A 304 target sends the
  # ETag of another target's answer (ours to ours, nginx's own to nginx).
  local -A path file kind source
  path[t01]=/;                                      file[t01]=t01.html
  path[t02]=/cities/$slug;                          file[t02]=t02.html
  path[t03]="/events?field=music&kind=performance"; file[t03]=t03.html
  path[t04]="/events?q=festival";                   file[t04]=t04.html
  path[t05]="/events?from=$from&to=$to";            file[t05]=t05.html
  path[t06]=/events/$id;                            file[t06]=t06.html
  path[t07]="/api/v1/events?city=$slug";            file[t07]=t07.json
  path[t08]=/cities/$slug/calendar.ics;             file[t08]=t08.ics
  path[t09]=/calendar.ics;                          file[t09]=t09.ics
  path[t10]=${path[t08]}; file[t10]=${file[t08]}; source[t10]=t08
  path[t11]=${path[t02]}; file[t11]=${file[t02]}; source[t11]=t02
  local ids=(t01 t02 t03 t04 t05 t06 t07 t08 t09 t10 t11) t
  for t in "${ids[@]}"; do kind[$t]=200; done
  kind[t10]=304 kind[t11]=304

  # Each body once, as nginx will serve it: the exact bytes ours gave.
  local -A o_status o_bytes o_hdr n_status n_bytes n_hdr
  for t in "${ids[@]}"; do
    [ "${kind[$t]}" = 200 ] || continue
    read -r o_status[$t] o_bytes[$t] o_hdr[$t] < <(fetch "$ours${path[$t]}" "$tmp/www/${file[$t]}" "$tmp/hdr/$run-$t-ours.txt")
    read -r n_status[$t] n_bytes[$t] n_hdr[$t] < <(fetch "$theirs/${file[$t]}" /dev/null "$tmp/hdr/$run-$t-nginx.txt")
    printf '   %s %-45s ours %s %9s bytes | nginx %s %9s bytes\n' "$t" "${path[$t]}" \
      "${o_status[$t]}" "${o_bytes[$t]}" "${n_status[$t]}" "${n_bytes[$t]}"
    if [ "${o_bytes[$t]}" != "${n_bytes[$t]}" ]; then
      echo "   WARNING: $t: ours ${o_bytes[$t]} bytes, nginx ${n_bytes[$t]}: not the same body"
    fi
  done
  sleep 1
  local rss_idle
  rss_idle=$(rss_kib "$server_pid")
  echo "   our RSS at idle, after these fetches: $((rss_idle / 1024)) MiB"

  echo "   measuring: ${#ids[@]} targets, ours then nginx, ${warmup} s warm-up + ${seconds} s each"
  local o_tag n_tag changed rss_max
  for t in "${ids[@]}"; do
    local -a o_args=() n_args=()
    changed=0
    if [ "${kind[$t]}" = 304 ]; then
      align_to_minute
      # The current ETags, and their 304s checked before the load.
      fetch "$ours${path[$t]}" /dev/null "$tmp/hdr/$run-$t-ours.txt" >/dev/null
      o_tag=$(etag_of "$tmp/hdr/$run-$t-ours.txt")
      n_tag=$(etag_of "$tmp/hdr/$run-${source[$t]}-nginx.txt")
      o_args=(-H "If-None-Match: $o_tag") n_args=(-H "If-None-Match: $n_tag")
      read -r o_status[$t] o_bytes[$t] o_hdr[$t] < <(fetch "$ours${path[$t]}" /dev/null "$tmp/hdr/$run-$t-ours.txt" "${o_args[@]}")
      read -r n_status[$t] n_bytes[$t] n_hdr[$t] < <(fetch "$theirs/${file[$t]}" /dev/null "$tmp/hdr/$run-$t-nginx.txt" "${n_args[@]}")
    fi

    rm -f "$tmp/rss-$t"
    sample_rss "$server_pid" "$tmp/rss-$t" &
    sampler_pid=$!
    wrk_run "$tmp/wrk/$run-$t-ours.txt" "$ours${path[$t]}" "${o_args[@]}"
    kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""
    rss_max=$(cat "$tmp/rss-$t" 2>/dev/null || echo "")
    if ! kill -0 "$server_pid" 2>/dev/null; then
      server_pid=""
      echo "our server died during $t; the end of its log:" >&2; tail -20 "$tmp/server-$run.log" >&2; exit 1
    fi
    if [ "${kind[$t]}" = 304 ] && [ "$(curl -s -o /dev/null -D - "$ours${path[$t]}" | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')" != "$o_tag" ]; then
      changed=1
    fi
    wrk_run "$tmp/wrk/$run-$t-nginx.txt" "$theirs/${file[$t]}" "${n_args[@]}"

    printf '   %s %s ours %s req/s, nginx %s req/s\n' "$t" "$([ "${kind[$t]}" = 304 ] && echo "304 ")${path[$t]}" \
      "$(awk '/^Requests\/sec/ {print $2}' "$tmp/wrk/$run-$t-ours.txt")" \
      "$(awk '/^Requests\/sec/ {print $2}' "$tmp/wrk/$run-$t-nginx.txt")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$backend" "$t" "${kind[$t]}" \
      "${path[$t]}" "${o_status[$t]}" "${n_status[$t]}" "${o_bytes[$t]}" "${n_bytes[$t]}" \
      "${o_hdr[$t]}" "${n_hdr[$t]}" "$rss_max" "$changed" >>"$tmp/targets.tsv"
  done
  stop_server
  printf '%s\t%s\t%s\t%s\n' "$size" "$backend" "$start_ms" "$rss_idle" >>"$tmp/runs.tsv"
  echo
  python3 bench/report.py table "$tmp" "$size" "$backend"
}

backends=sqlite
[ -n "$postgres" ] && backends="sqlite postgres"
echo "binary: $bin; sizes: $sizes; backends: $backends; wrk -t2 -c32, ${warmup} s warm-up + ${seconds} s a target"
for size in $sizes; do
  for backend in $backends; do
    if [ "$backend" = sqlite ]; then db=$(sqlite_db "$size"); else db=$(postgres_db "$size"); fi
    run_one "$size" "$backend" "$db"
  done
done

echo
if [ "$smoke" = 1 ]; then
  python3 bench/report.py final "$tmp" --seconds "$seconds" --warmup "$warmup" --smoke
else
  mkdir -p bench/results
  python3 bench/report.py final "$tmp" --seconds "$seconds" --warmup "$warmup" \
    --results "bench/results/$(date +%F)-run" --readme README.md
fi
