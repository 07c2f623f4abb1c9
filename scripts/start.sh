#!/usr/bin/env bash
# The product on this machine: installs what it needs, builds the dashboard and the workflow bundle (each only
# when its sources changed), then runs embedded PostgreSQL, the Temporal dev server with its Web UI, the worker
# and the API (see entry/start.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f dashboard/dist/index.html ] || [ -n "$(find dashboard -newer dashboard/dist/index.html -not -path 'dashboard/dist*' -type f -print -quit)" ]; then
  npm run --silent build:dashboard
fi
npm run --silent build:workflows
exec node --import tsx entry/start.ts
