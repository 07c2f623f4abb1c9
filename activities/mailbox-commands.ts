import type { Pool } from 'pg';
import {
  checkMailbox,
  deleteMailbox,
  emailInBatch,
  lockMailboxForMove,
  reassignMailbox,
  requeueMailbox,
  sameEndpoints,
  setMailboxOverrides,
  stopMailbox,
  type GuardedChange,
  type MailboxGuard,
} from '../db/mailbox-commands';
import { lockMailboxAssignment } from '../db/mailboxes';
import { withTransaction } from '../db/transaction';
import type { MailboxCommandResult } from '../domain/batch-messages';
import type { MailboxOverrides } from '../domain/mailbox-commands';
import { secretContext, type SecretBox } from '../secrets/secret-box';

export type MailboxChange = GuardedChange & { code?: MailboxCommandResult['code'] };

/**
 * The PostgreSQL side of the per-mailbox commands, run by the batch workflow once any sync of the mailbox has
 * been cancelled. Each is idempotent in effect: run again, it finds the mailbox already changed (or gone) and
 * says so.
 */
export function createMailboxCommandActivities({ pool, secretBox }: { pool: Pool; secretBox: SecretBox }) {
  return {
    async stopMailbox(guard: MailboxGuard): Promise<MailboxChange> {
      return stopMailbox(pool, guard);
    },

    /** Verify: the mailbox's status allows it (nothing changes; the verification runs apart). */
    async checkMailbox(guard: MailboxGuard): Promise<MailboxChange> {
      return checkMailbox(pool, guard);
    },

    async requeueMailbox(guard: MailboxGuard): Promise<MailboxChange> {
      return requeueMailbox(pool, guard);
    },

    async removeMailbox(guard: MailboxGuard): Promise<MailboxChange> {
      return deleteMailbox(pool, guard);
    },

    async setMailboxOverrides(input: MailboxGuard & { overrides: MailboxOverrides }): Promise<MailboxChange> {
      return setMailboxOverrides(pool, input, input.overrides);
    },

    /**
     * Moves the mailbox to another batch with the same endpoints, its checkpoints with it (nothing is copied
     * twice); its secrets are sealed for their batch, so they are opened and sealed again for the new one.
     */
    async moveMailbox(input: MailboxGuard & { toBatchId: string }): Promise<MailboxChange> {
      return withTransaction(pool, async (client) => {
        const row = await lockMailboxForMove(client, input.mailboxId, input.batchId);
        if (!row) return { before: null, applied: false };
        if (!input.from.includes(row.status)) return { before: row.status, applied: false };
        const refused = (code: MailboxChange['code']): MailboxChange => ({ before: row.status, applied: false, code });
        if (!(await sameEndpoints(client, input.batchId, input.toBatchId))) return refused('BATCH_ENDPOINTS_DIFFER');
        await lockMailboxAssignment(client);
        if (await emailInBatch(client, row.email, input.toBatchId)) return refused('MAILBOX_ALREADY_IN_BATCH');
        const reseal = (sealed: Buffer | null, from: string, to: string) =>
          sealed && secretBox.seal(secretBox.open(sealed, from), to);
        await reassignMailbox(client, {
          mailboxId: row.id,
          toBatchId: input.toBatchId,
          sourceSecret: reseal(
            row.source_secret,
            secretContext.mailboxSource(input.batchId, row.email),
            secretContext.mailboxSource(input.toBatchId, row.email),
          ),
          destinationSecret: reseal(
            row.destination_secret,
            secretContext.mailboxDestination(input.batchId, row.email),
            secretContext.mailboxDestination(input.toBatchId, row.email),
          ),
        });
        return { before: row.status, applied: true };
      });
    },
  };
}
