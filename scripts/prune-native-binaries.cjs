#!/usr/bin/env node
/**
 * Run by the Dockerfile's production-deps stage in /app: the Temporal SDK's core bridge ships its native library for
 * five platforms (about 27 MB each); this keeps only the one it loads here (its own getPrebuiltPath), as the image
 * runs on the platform it was built for.
 */
const fs = require('node:fs');
const path = require('node:path');
const { getPrebuiltPath } = require('@temporalio/core-bridge/common');

const keep = path.dirname(getPrebuiltPath());
const releases = path.dirname(keep);
for (const entry of fs.readdirSync(releases)) {
  const dir = path.join(releases, entry);
  if (dir !== keep) fs.rmSync(dir, { recursive: true });
}
console.log(`core bridge: kept ${path.relative(process.cwd(), keep)}`);
