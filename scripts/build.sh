#!/usr/bin/env bash
# Compiles the processes to plain JavaScript (dist/start.js, worker.js, api.js, build-workflows.js) and builds the
# workflow bundle (dist/workflows). Running from compiled code spares each process the tsx loader and its
# thread, about 40 MB of memory (docs/deployment.md, "Memory").
#
# esbuild bundles the project's own modules into one file per entry point and leaves the npm packages to
# node_modules. Each file sits one folder below the project root, as every source file does, so the paths the
# sources find from their __dirname (the project root, dashboard/dist) hold as they are; db/migrate.ts finds its
# migrations beside it, hence the copy in dist/migrations. Type checking is `npm run check`'s job, not this one's.
# About a second; quick enough for every `npm start`.
#
# Each file is an executable (`#!/usr/bin/env node`), so V8 flags for every mailferry process would go in one
# place, here. None is set: capping the young generation (--max-semi-space-size=2) took the product's RSS once a
# batch exists from 220-228 to 186 MB and its peak during a 10,000-message sync by 40-60 MB, but cost about 40% more
# CPU for that sync (8.4 s against 5.9 s of the product's processes for 716 MB), and CPU per GB is the larger
# problem (docs/deployment.md, "Memory").
set -euo pipefail
cd "$(dirname "$0")/.."
npx esbuild entry/start.ts entry/worker.ts entry/api.ts entry/build-workflows.ts --bundle --platform=node \
  --format=cjs --packages=external --target=node20 --outdir=dist --log-level=warning \
  '--banner:js=#!/usr/bin/env node'
chmod +x dist/start.js dist/worker.js dist/api.js dist/build-workflows.js
rm -rf dist/migrations
cp -r db/migrations dist/migrations
dist/build-workflows.js
