#!/usr/bin/env bash
# Storage failures on a running server: a full disk (a small tmpfs, filled) and a
# read-only database file (a server run as nobody on a file chmod 444). Writes get a 503
# that names the cause, reads go on, nothing is corrupted, and writes come back once the
# cause is gone. Needs root (mount, runuser); CI runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CC_BIN:-target/debug/creative-calendar}
if [[ -z "${CC_BIN:-}" && ! -x "$bin" ]]; then
  cargo build --locked
fi
python3 .ci/storage_test.py "$bin"
