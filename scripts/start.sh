#!/usr/bin/env bash
# The product on this machine: installs what it needs, builds the dashboard (when its sources changed), compiles
# the processes and the workflow bundle (scripts/build.sh), then runs embedded PostgreSQL, the Temporal dev server
# with its Web UI, the worker and the API (see entry/start.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f dashboard/dist/index.html ] || [ -n "$(find dashboard -newer dashboard/dist/index.html -not -path 'dashboard/dist*' -type f -print -quit)" ]; then
  npm run --silent build:dashboard
fi
bash scripts/build.sh
exec dist/start.js
