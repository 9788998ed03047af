#!/usr/bin/env bash
# Fails when src/db/schema.rs is not what `diesel print-schema` makes of the migrations:
# always of migrations/sqlite, and also of migrations/postgres when
# CREATIVE_CALENDAR_TEST_POSTGRES names a PostgreSQL server, e.g.
#   CREATIVE_CALENDAR_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test .ci/check-schema.sh
# (a role that may create databases; the database in the URL is not touched: a scratch
# database of a unique name is made beside it and dropped on exit).
set -euo pipefail
cd "$(dirname "$0")/.."

# The CLI of the same minor version as the diesel crate, with both backends; bundled
# SQLite and bundled libpq (with a vendored OpenSSL), so no system library is needed.
DIESEL_CLI_VERSION=2.3
diesel_ok() {
  command -v diesel >/dev/null 2>&1 || return 1
  local version
  version=$(diesel --version) || return 1
  # `diesel --version` lists the backends it was built with, e.g.
  # " Supported Backends: postgres sqlite"; a CLI built for SQLite only cannot check
  # the PostgreSQL migrations.
  grep -q "Version: ${DIESEL_CLI_VERSION}\." <<<"$version" &&
    grep -q "Supported Backends:.*\bsqlite\b" <<<"$version" &&
    grep -q "Supported Backends:.*\bpostgres\b" <<<"$version"
}
if ! diesel_ok; then
  echo "installing diesel_cli ${DIESEL_CLI_VERSION} (sqlite and postgres)"
  cargo install diesel_cli --version "~${DIESEL_CLI_VERSION}" --locked --force \
    --no-default-features --features sqlite-bundled,postgres-bundled
  if ! diesel_ok; then
    echo "the installed diesel CLI is still not ${DIESEL_CLI_VERSION} with sqlite and postgres:" >&2
    diesel --version >&2 || true
    exit 1
  fi
fi

tmp=$(mktemp -d)
pg_url=""
pg_created=""
cleanup() {
  local status=$?
  if [[ -n "$pg_created" ]]; then
    if ! diesel database drop --database-url "$pg_url" >/dev/null; then
      echo "could not drop the scratch PostgreSQL database ${pg_created}; drop it by hand" >&2
      status=1
    fi
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT

# --- SQLite ---------------------------------------------------------------------------
# Run the migrations up, down and up again on a scratch database: every migration must
# be reversible.
diesel migration run --database-url "$tmp/schema.db" --migration-dir migrations/sqlite \
  --config-file "$tmp/none.toml" >/dev/null
diesel migration redo --all --database-url "$tmp/schema.db" --migration-dir migrations/sqlite \
  --config-file "$tmp/none.toml" >/dev/null
diesel print-schema --database-url "$tmp/schema.db" --config-file diesel.toml > "$tmp/schema.rs"
if ! diff -u src/db/schema.rs "$tmp/schema.rs"; then
  echo "src/db/schema.rs has drifted from the migrations; regenerate it with:" >&2
  echo "  rm -f /tmp/schema.db && diesel migration run --database-url /tmp/schema.db" >&2
  exit 1
fi
echo "schema.rs matches the migrations"

# --- PostgreSQL -----------------------------------------------------------------------
if [[ -z "${CREATIVE_CALENDAR_TEST_POSTGRES:-}" ]]; then
  echo "PostgreSQL check skipped: set CREATIVE_CALENDAR_TEST_POSTGRES=postgres://user@host:port/db to run it"
  exit 0
fi

# The scratch database: the server of the given URL, the same user, password and query
# parameters, another database name. The URL is never printed (it may hold a password).
server_url=$CREATIVE_CALENDAR_TEST_POSTGRES
query=""
if [[ "$server_url" == *\?* ]]; then
  query="?${server_url#*\?}"
  server_url=${server_url%%\?*}
fi
scheme=${server_url%%://*}
if [[ "$scheme" != postgres && "$scheme" != postgresql ]] || [[ "$server_url" != *://* ]]; then
  echo "CREATIVE_CALENDAR_TEST_POSTGRES must be a postgres:// or postgresql:// URL" >&2
  exit 1
fi
authority=${server_url#*://}
authority=${authority%%/*}
pg_db="cc_schema_check_$(date +%s)_$$_${RANDOM}"
pg_url="${scheme}://${authority}/${pg_db}${query}"

# `diesel database setup` on an empty migration directory only creates the database, so
# that the migrations below are run by `diesel migration run`, as on a real server.
# The name is marked for dropping before the attempt: it is unique, so whatever exists
# under it on exit was made here, even by a setup that failed half-way.
mkdir "$tmp/no-migrations"
pg_created=$pg_db
diesel database setup --no-default-migration --database-url "$pg_url" \
  --migration-dir "$tmp/no-migrations" --config-file "$tmp/none.toml" >/dev/null
echo "PostgreSQL: scratch database ${pg_db}"

diesel migration run --database-url "$pg_url" --migration-dir migrations/postgres \
  --config-file "$tmp/none.toml" >/dev/null
diesel migration redo --all --database-url "$pg_url" --migration-dir migrations/postgres \
  --config-file "$tmp/none.toml" >/dev/null
diesel print-schema --database-url "$pg_url" --config-file diesel.pg.toml > "$tmp/schema.pg.rs"

# The one normalisation: `diesel print-schema` names a column's SQL type after the
# backend's own type name (pg_type.typname: int4, int8, float8, bytea), while on SQLite
# it uses the standard names. In diesel::sql_types these are the same types under two
# names (`pub type Int4 = Integer;`, Int8 = BigInt, Float8 = Double, Bytea = Binary;
# also Int2 = SmallInt and Float4 = Float), so a schema.rs that says `Integer` means
# exactly what PostgreSQL's `Int4` means. Only the type after `->` in a column line is
# rewritten, whole words only; everything else (tables, columns, their order, keys,
# joinable!, allow_tables_to_appear_in_same_query!) must match as printed.
sed -E \
  -e '/^ +[A-Za-z_][A-Za-z0-9_]* -> /{
        s/\bInt2\b/SmallInt/g
        s/\bInt4\b/Integer/g
        s/\bInt8\b/BigInt/g
        s/\bFloat4\b/Float/g
        s/\bFloat8\b/Double/g
        s/\bBytea\b/Binary/g
      }' \
  "$tmp/schema.pg.rs" > "$tmp/schema.pg.normalised.rs"
if ! diff -u src/db/schema.rs "$tmp/schema.pg.normalised.rs"; then
  echo "migrations/postgres do not give the schema of src/db/schema.rs (above: what they give," >&2
  echo "with PostgreSQL's type names mapped to the standard ones); change migrations/postgres" >&2
  echo "so that both backends print the same schema" >&2
  exit 1
fi
echo "schema.rs matches the PostgreSQL migrations"
