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
# Each file is an executable that starts node with the V8 flags of every mailferry process, so they are written
# once, here: --max-semi-space-size=2 (MB) caps each isolate's young generation (the main thread's and the
# workflow thread's), which V8 otherwise grows to 16 MB × 3 per isolate under a sync's garbage. It took the
# product's peak RSS during a 10,000-message sync from 307 to 241 MB, at no cost in speed that the noise of this
# 2-core machine shows (docs/deployment.md, "Memory").
set -euo pipefail
cd "$(dirname "$0")/.."
npx esbuild entry/start.ts entry/worker.ts entry/api.ts entry/build-workflows.ts --bundle --platform=node \
  --format=cjs --packages=external --target=node20 --outdir=dist --log-level=warning \
  '--banner:js=#!/usr/bin/env -S node --max-semi-space-size=2'
chmod +x dist/start.js dist/worker.js dist/api.js dist/build-workflows.js
rm -rf dist/migrations
cp -r db/migrations dist/migrations
dist/build-workflows.js
