import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { migrate } from '../../db/migrate';
import { databaseUrl } from '../fixtures/database';

test('two processes migrating an empty database at once apply each migration exactly once', async () => {
  const server = process.env.MAILFERRY_TEST_ADMIN_URL!;
  const name = `mailferry_migrate_${randomBytes(4).toString('hex')}`;
  const admin = new Pool({ connectionString: server, max: 1 });
  await admin.query(`create database ${name}`);
  const a = new Pool({ connectionString: databaseUrl(server, name), max: 2 });
  const b = new Pool({ connectionString: databaseUrl(server, name), max: 2 });
  for (const pool of [admin, a, b]) pool.on('error', () => undefined); // connections ended by the final drop
  try {
    const [first, second] = await Promise.all([migrate(a), migrate(b)]);
    const applied = [...first, ...second].sort();
    expect(applied.length).toBeGreaterThan(0);
    expect(new Set(applied).size).toBe(applied.length);
    const { rows } = await a.query('select version from schema_migrations order by version');
    expect(rows.map((r) => `${r.version}`)).toEqual(applied.map((f) => f.slice(0, 4)));
    expect(await migrate(a)).toEqual([]);
  } finally {
    await a.end();
    await b.end();
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  }
});
