#!/usr/bin/env bash
# Fails when src/db/schema.rs is not what `diesel print-schema` makes of the migrations.
set -euo pipefail
cd "$(dirname "$0")/.."

# The CLI of the same minor version as the diesel crate; bundled SQLite, so no system
# library is needed.
DIESEL_CLI_VERSION=2.3
if ! command -v diesel >/dev/null 2>&1 || ! diesel --version | grep -q "Version: ${DIESEL_CLI_VERSION}\."; then
  echo "installing diesel_cli ${DIESEL_CLI_VERSION} (sqlite only)"
  cargo install diesel_cli --version "~${DIESEL_CLI_VERSION}" --locked \
    --no-default-features --features sqlite-bundled
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
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
