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
# Everything but the tests that bound the product's answers under a real-size batch, then those alone
# (jest.config.js, ALONE): nothing else runs beside them on the machine's cores.
JEST_ALONE=exclude npx jest --ci --passWithNoTests --json --outputFile=test-artifacts/jest-results.json "$@"
status=$?
JEST_ALONE=only npx jest --ci --runInBand --passWithNoTests --json --outputFile=test-artifacts/jest-alone.json "$@"
alone=$?
node -e '
  const runs = ["./test-artifacts/jest-results.json", "./test-artifacts/jest-alone.json"].map((f) => require(f));
  const sum = (key) => runs.reduce((n, r) => n + r[key], 0);
  console.log(`jest: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests")} skipped`);
' || true
[ $status -eq 0 ] && [ $alone -eq 0 ]
