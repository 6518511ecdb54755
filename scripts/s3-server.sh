#!/usr/bin/env bash
# Installs the S3-compatible test server, `moto` in server mode (PyPI `moto[server]`), into a
# virtualenv under target/ (idempotent: a second run only checks it) and prints the line to
# export so the object store test finds it:
#   FS_MOTO_SERVER=/…/target/s3-venv/bin/moto_server
# The test (sync-server/tests/objectstore.rs) starts it itself on 127.0.0.1 port 0 and kills
# it when done. Needs python3 (3.9+) with venv and pip, and PyPI.
# Usage: ./scripts/s3-server.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
venv="$(pwd)/target/s3-venv"
bin="$venv/bin/moto_server"
if [ ! -x "$bin" ] || ! "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "s3-server: installing moto[server]==$MOTO_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
echo "FS_MOTO_SERVER=$bin"
