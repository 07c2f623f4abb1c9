#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, checks types, lint and formatting,
# then runs jest against real PostgreSQL, Temporal and Dovecot. Ends with 'N passed, N failed'.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test.sh || exit 1
npm run --silent build:dashboard || exit 1
npm run --silent build:workflows || exit 1
npm run --silent check || exit 1

mkdir -p test-artifacts
npx jest --ci --json --outputFile=test-artifacts/jest-results.json "$@"
status=$?
node -e '
  const r = require("./test-artifacts/jest-results.json");
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' || true
exit $status
