import type { Pool } from 'pg';

/**
 * Deletes every row of a batch in one transaction: the batch itself (its mailboxes, checkpoints, reports and
 * progress go with it by cascade) and its audit entries, so a removed batch leaves nothing behind.
 */
export async function deleteBatchRows(pool: Pool, batchId: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('delete from audit_log where batch_id = $1', [batchId]);
    await client.query('delete from batches where id = $1', [batchId]);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
