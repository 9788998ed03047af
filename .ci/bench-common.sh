# Shared by the load benchmarks; sourced, not run. Expects $events and $seconds.
# Builds the release binary (or, with BENCH_BIN set, uses that one as it is), makes
# (once) target/bench/demo-$events.db, and defines
# serve_on PORT (starts the server in the background, sets $server) and
# measure LABEL WRK-ARGS... (one wrk run, one table row).
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
if [ -n "${BENCH_BIN:-}" ]; then
  bin=$BENCH_BIN
else
  cargo build --release --locked
  bin=target/release/creative-calendar
fi
mkdir -p target/bench
db=target/bench/demo-$events.db
if [ ! -f "$db" ]; then
  /usr/bin/time -f "demo --events $events: %e s, max RSS %M KiB" \
    "$bin" demo --events "$events" --seed 1 --database "$db"
fi

# With BENCH_POSTGRES=postgres://… (a server), the same data is served from PostgreSQL:
# the SQLite file is copied once, with `db copy`, into a database cc_bench_EVENTS there.
if [ -n "${BENCH_POSTGRES:-}" ]; then
  pg_name="cc_bench_$events"
  pg_url="$(sed -E 's#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/'"$pg_name"'#' <<<"$BENCH_POSTGRES")"
  if ! psql "$BENCH_POSTGRES" -Atc "SELECT 1 FROM pg_database WHERE datname = '$pg_name'" | grep -q 1; then
    psql "$BENCH_POSTGRES" -qc "CREATE DATABASE $pg_name ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
    /usr/bin/time -f "db copy of $events events into PostgreSQL: %e s" \
      "$bin" db copy --from "$db" --to "$pg_url"
  fi
  db=$pg_url
fi

serve_on() {
  "$bin" serve --database "$db" --bind "127.0.0.1:$1" --workers 2 2>/dev/null &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && break; sleep 0.1; done
}

measure() {
  local label=$1; shift
  local out rps p50 p90 p99
  out=$(wrk -t1 -c2 -d"${seconds}s" --latency "$@")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p90=$(awk '$1=="90%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%-52s %10s %9s %9s %9s\n' "$label" "$rps" "$p50" "$p90" "$p99"
}
