import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { migrate } from '../db/migrate';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../dev/embedded-postgres';
import { TEMPLATE_DATABASE, withDatabase } from './fixtures/database';
import { freePort } from './fixtures/ports';

declare global {
  var __MAILFERRY_PG__: EmbeddedPostgresHandle | undefined;
  var __MAILFERRY_PG_DIR__: string | undefined;
}

/**
 * One PostgreSQL for the whole run: the embedded server, or the one `DATABASE_URL` names. A template database
 * is migrated once; each test file clones it (test/fixtures/database.ts).
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-test-pg-'));
    const handle = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await freePort() });
    globalThis.__MAILFERRY_PG__ = handle;
    globalThis.__MAILFERRY_PG_DIR__ = dir;
    adminUrl = handle.url;
  }
  process.env.MAILFERRY_TEST_ADMIN_URL = adminUrl;
  const admin = new Pool({ connectionString: adminUrl, max: 1 });
  try {
    await admin.query(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
    await admin.query(`create database ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  await withDatabase(adminUrl, TEMPLATE_DATABASE, (pool) => migrate(pool));
}
